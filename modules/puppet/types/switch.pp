# @summary
#   A feature value as offloadctl.yaml(5) takes it: a Boolean, or a word
#   such as `on` or `off`. The agent decides which words it accepts (its
#   message names the file and line); the module keeps no list of its own.
type Offloadctl::Switch = Variant[Boolean, String[1]]
