import ArchiveFormats
import ArgumentParser

/// `--format rlp|jsonl|sqlite|leveldb|archive`.
extension ArchiveFormat: ExpressibleByArgument {}
