# @summary
#   The `match` of a rule: every key given must hold; a list means any of.
#   Names, drivers and MACs are shell globs; `virtualization` is a vm or
#   container word of systemd-detect-virt, or xen-dom0 / xen-domU.
type Offloadctl::Match = Struct[{
    Optional['name']           => Variant[String[1], Array[String[1], 1]],
    Optional['driver']         => Variant[String[1], Array[String[1], 1]],
    Optional['module']         => Variant[String[1], Array[String[1], 1]],
    Optional['kind']           => Variant[String[1], Array[String[1], 1]],
    Optional['mac']            => Variant[String[1], Array[String[1], 1]],
    Optional['virtualization'] => Variant[String[1], Array[String[1], 1]],
}]
