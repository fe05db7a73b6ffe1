# @summary
#   Offload features by ethtool short name (tx, tso, gro, ...), ethtool long
#   name (tx-checksumming, ...) or kernel name (tx-checksum-ip-generic, ...).
type Offloadctl::Features = Hash[Pattern[/\A[a-z0-9][a-z0-9_-]*\z/], Offloadctl::Switch, 1]
