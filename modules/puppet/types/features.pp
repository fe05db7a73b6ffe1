# @summary
#   Offload features by ethtool short name (tx, tso, gro, ...), ethtool long
#   name (tx-checksumming, ...) or kernel name (tx-checksum-ip-generic, ...):
#   the agent says what each name stands for on each interface, and refuses
#   a name it does not know, naming the file and line.
type Offloadctl::Features = Hash[String[1], Offloadctl::Switch, 1]
