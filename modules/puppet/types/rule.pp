# @summary One entry of `interfaces` in offloadctl.yaml(5): what to match,
#   and the features and settings (rings, channels, coalesce, pause, eee) to
#   reach. The agent judges the rule (and names its line when it refuses it).
type Offloadctl::Rule = Struct[{
    Optional['match']    => Offloadctl::Match,
    Optional['features'] => Offloadctl::Features,
    Optional['rings']    => Offloadctl::Settings,
    Optional['channels'] => Offloadctl::Settings,
    Optional['coalesce'] => Offloadctl::Settings,
    Optional['pause']    => Offloadctl::Settings,
    Optional['eee']      => Offloadctl::Settings,
}]
