# One interface by hand, with ethtool short, long and kernel names.
nic_offload { 'eth0':
  features => {
    'tx'                      => 'off',
    'generic-receive-offload' => 'on',
    'tx-tcp6-segmentation'    => 'off',
  },
}

# An interface inside a network namespace (ip netns add blue).
nic_offload { 'veth0':
  netns    => 'blue',
  features => { 'rx-gro' => 'on' },
}
