# @summary
#   ethtool's other settings of one group (rings, channels, coalesce, pause,
#   eee), by the parameter names `ethtool -G`, `-L`, `-C`, `-A` and
#   `--set-eee` take: a count or `max`, a number, or on/off (a Boolean or a
#   word). The agent judges names and values and names the file and line of
#   what it refuses; the module keeps no list of its own.
type Offloadctl::Settings = Hash[String[1], Variant[Integer[0], Boolean, String[1]], 1]
