# @summary
#   The desired-state document of offloadctl.yaml(5) as a Puppet hash:
#   `version` (1, added when missing), `defaults` and `interfaces`, a list of
#   rules applied in order (the last rule that matches wins per feature).
#   The keys are typed here; the words of `defaults` (`ignore`, `warn`,
#   `error`) are the agent's to judge (`offloadctl names --json`, `policies`).
type Offloadctl::Rules = Struct[{
    Optional['version']  => Integer[1, 1],
    Optional['defaults'] => Struct[{
        Optional['missing-interface'] => String[1],
        Optional['fixed-feature']     => String[1],
        Optional['fixed-member']      => String[1],
        Optional['unmatched-rule']    => String[1],
    }],
    'interfaces'         => Array[Offloadctl::Rule],
}]
