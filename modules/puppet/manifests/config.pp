# @summary
#   Writes the rules into their scope and the fact's settings, and applies
#   the scope where what the rules decide is out of sync.
#
# @api private
class offloadctl::config {
  if $caller_module_name != $module_name {
    fail('offloadctl::config is private: include class offloadctl instead')
  }

  $config_dir = $offloadctl::config_dir

  file { [$config_dir, "${config_dir}/conf.d"]:
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  # The rules' scope: the host's offloadctl.yaml, or the drop-in of this
  # class in the named namespace's scope (never the host's set for a
  # namespace: the boot unit and watch would apply it to the host's NICs).
  if $offloadctl::netns and $offloadctl::netns =~ /\// {
    fail(join([
      "offloadctl: netns '${offloadctl::netns}' is a path; the class keeps rules in",
      "a namespace's scope, which needs its name as in /run/netns",
    ], ' '))
  }
  if $offloadctl::netns {
    $scope_dir = "${config_dir}/netns/${offloadctl::netns}"
    $rules_file = "${scope_dir}/40-puppet-offloadctl.yaml"
    file { ["${config_dir}/netns", $scope_dir]:
      ensure => directory,
      owner  => 'root',
      group  => 'root',
      mode   => '0755',
    }
  } else {
    $rules_file = "${config_dir}/offloadctl.yaml"
  }

  file { "${config_dir}/fact.conf":
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (class offloadctl): what the external fact 'offloadctl' holds.\nmode=${offloadctl::fact}\n",
  }

  # Written only when the agent finds the whole scope reachable with them
  # (the previous file stays otherwise), then applied where what they decide
  # is out of sync; `--noop` shows those features.
  if $offloadctl::rules {
    offloadctl_rules { $rules_file:
      content    => epp('offloadctl/offloadctl.yaml.epp', { 'rules' => $offloadctl::rules }),
      netns      => $offloadctl::netns,
      config_dir => $config_dir,
      apply      => $offloadctl::apply,
    }
  }

  # The advice to follow: a drop-in in the same scope (notices for the rest).
  $advice_file = $offloadctl::netns ? {
    undef   => "${config_dir}/conf.d/40-puppet-advice.yaml",
    default => "${scope_dir}/40-puppet-advice.yaml",
  }
  include offloadctl::advice
}
