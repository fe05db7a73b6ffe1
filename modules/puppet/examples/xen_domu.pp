# A Xen domU: TX checksumming off on every netfront interface, kept by the
# watch service across reboots and hot-plugged vifs.
#   puppet apply --noop examples/xen_domu.pp
class { 'offloadctl':
  manage_package => true,
  service        => 'watch',
  rules          => {
    'interfaces' => [
      {
        'match'    => { 'module' => 'xen_netfront', 'name' => ['eth*', 'enX*'], 'virtualization' => 'xen-domU' },
        'features' => { 'tx' => 'off' },
      },
    ],
  },
}
