# @summary
#   Writes offloadctl.yaml and the fact's settings, and applies the
#   configuration set when it is out of sync.
#
# @api private
class offloadctl::config {
  if $caller_module_name != $module_name {
    fail('offloadctl::config is private: include class offloadctl instead')
  }

  $config_dir = $offloadctl::config_dir
  # The agent on PATH first (a test points PATH at a fresh build), then the
  # places a package installs it.
  $path = "${facts['path']}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  $global = $offloadctl::netns ? {
    undef   => ['offloadctl', '--config-dir', $config_dir],
    default => ['offloadctl', '--netns', $offloadctl::netns, '--config-dir', $config_dir],
  }

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
    $rules_file = "${scope_dir}/50-puppet-offloadctl.yaml"
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

  if $offloadctl::rules {
    file { $rules_file:
      ensure       => file,
      owner        => 'root',
      group        => 'root',
      mode         => '0644',
      content      => epp('offloadctl/offloadctl.yaml.epp', { 'rules' => $offloadctl::rules }),
      # --kernel: feature names as this host's kernel has them (plain
      # validate only warns about names outside the agent's own table)
      validate_cmd => 'offloadctl validate --kernel %',
    }
  }

  # The advice to follow: a drop-in in the same scope (notices for the rest).
  $advice_file = $offloadctl::netns ? {
    undef   => "${config_dir}/conf.d/40-puppet-advice.yaml",
    default => "${scope_dir}/40-puppet-advice.yaml",
  }
  include offloadctl::advice

  $apply_after = $offloadctl::rules ? {
    undef   => [File["${config_dir}/conf.d"], Class['offloadctl::advice']],
    default => [File[$rules_file], Class['offloadctl::advice']],
  }
  if $offloadctl::apply and ($offloadctl::rules or !$offloadctl::advice::rules.empty) {
    exec { 'offloadctl apply':
      command   => shellquote($global + ['apply']),
      unless    => shellquote($global + ['-q', 'check']),
      path      => $path,
      logoutput => true,
      require   => $apply_after,
    }
  }
}
