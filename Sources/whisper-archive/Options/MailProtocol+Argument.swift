import ArgumentParser
import MailServer

/// `--protocol shh|waku`: the sub-protocol a client speaks, spelled as its capability name.
extension MailProtocol: ExpressibleByArgument {}
