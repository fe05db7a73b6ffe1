# @summary
#   The desired-state document of offloadctl.yaml(5) as a Puppet hash:
#   `version` (1, added when missing), `defaults` and `interfaces`, a list of
#   rules applied in order (the last rule that matches wins per feature).
type Offloadctl::Rules = Struct[{
    Optional['version']  => Integer[1, 1],
    Optional['defaults'] => Struct[{
        Optional['missing-interface'] => Enum['ignore', 'warn', 'error'],
        Optional['fixed-feature']     => Enum['warn', 'error'],
        Optional['fixed-member']      => Enum['ignore', 'warn', 'error'],
        Optional['unmatched-rule']    => Enum['ignore', 'warn', 'error'],
    }],
    'interfaces'         => Array[Offloadctl::Rule],
}]
