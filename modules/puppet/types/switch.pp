# @summary A feature value offloadctl accepts: on or off, true or false, yes or no.
type Offloadctl::Switch = Variant[Boolean, Enum['on', 'off', 'true', 'false', 'yes', 'no']]
