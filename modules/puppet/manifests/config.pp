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
  $present = $offloadctl::ensure == 'present'

  if $present {
    file { [$config_dir, "${config_dir}/conf.d"]:
      ensure => directory,
      owner  => 'root',
      group  => 'root',
      mode   => '0755',
    }
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
    if $present {
      file { ["${config_dir}/netns", $scope_dir]:
        ensure => directory,
        owner  => 'root',
        group  => 'root',
        mode   => '0755',
      }
    }
  } else {
    $scope_dir = "${config_dir}/conf.d"
    $rules_file = "${config_dir}/offloadctl.yaml"
  }
  # The advice to follow: a drop-in in the same scope (notices for the rest).
  $advice_file = "${scope_dir}/40-puppet-advice.yaml"

  # The first line of every rules file the class writes: how it knows its
  # own offloadctl.yaml from an admin's.
  $mark = 'Managed by Puppet (class offloadctl)'

  if $present {
    file { "${config_dir}/fact.conf":
      ensure  => file,
      owner   => 'root',
      group   => 'root',
      mode    => '0644',
      content => "# ${mark}: what the external fact 'offloadctl' holds.\nmode=${offloadctl::fact}\n",
    }

    # Written only when the agent finds the whole scope reachable with them
    # (the previous file stays otherwise), then applied where what they
    # decide is out of sync; `--noop` shows those features.
    if $offloadctl::rules {
      offloadctl_rules { $rules_file:
        content    => offloadctl::dropin($offloadctl::rules, join([
          "${mark}: local changes are overwritten.",
          'See offloadctl.yaml(5): JSON is YAML; rules apply in order, the last match wins.',
        ], "\n")),
        netns      => $offloadctl::netns,
        config_dir => $config_dir,
        apply      => $offloadctl::apply,
      }
    }

    include offloadctl::advice
  } else {
    # ensure => absent: the class gives up what it wrote in its scope and
    # nothing else. The interfaces keep their offloads; other owners'
    # files, the package and the units are left alone.
    file { ["${config_dir}/fact.conf", $advice_file]:
      ensure => absent,
    }
    if $offloadctl::netns {
      file { $rules_file:
        ensure => absent,
      }
    } else {
      # offloadctl.yaml is the host set's first file, which the package
      # installs and the boot unit needs: the class's own rules in it give
      # way to none; an offloadctl.yaml the class did not write stays.
      offloadctl_rules { $rules_file:
        content    => offloadctl::dropin({ 'interfaces' => [] }, join([
          "${mark}, ensure => absent: the class's rules are gone.",
          'This file is yours now; see offloadctl.yaml(5).',
        ], "\n")),
        mark       => "# ${mark}",
        config_dir => $config_dir,
        apply      => false,
      }
    }
  }
}
