# @summary One entry of `interfaces` in offloadctl.yaml(5).
type Offloadctl::Rule = Struct[{
    Optional['match'] => Offloadctl::Match,
    'features'        => Offloadctl::Features,
}]
