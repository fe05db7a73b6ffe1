# @summary Runs the watch service or enables the boot oneshot, as asked.
#
# @api private
class offloadctl::service {
  if $caller_module_name != $module_name {
    fail('offloadctl::service is private: include class offloadctl instead')
  }

  # The units are systemd units: the systemd provider, never the init script
  # provider Puppet picks where systemd is not PID 1 (a container, a chroot,
  # an image being built). There, Puppet's `service_provider` fact is not
  # `systemd` and the systemd provider does not run at all: starting a unit
  # is impossible, so `watch` and `metrics` fail at once with words that
  # say so, and the boot oneshot is enabled (and watch disabled) with
  # `systemctl`, which does that on the unit files alone.
  $systemd = $facts['service_provider'] == 'systemd'
  # ensure => absent touches no unit: they serve every scope on the host.
  $service = $offloadctl::ensure ? {
    'present' => $offloadctl::service,
    default   => 'none',
  }
  $metrics = $offloadctl::ensure == 'present' and $offloadctl::metrics
  $units = { 'watch' => 'offloadctl-watch.service', 'boot' => 'offloadctl-boot.service' }

  if !$systemd and ($service == 'watch' or $metrics) {
    fail(join([
      "offloadctl: service => 'watch' and metrics => true start systemd units, and systemd",
      "is not the running service manager here (Puppet's service_provider fact is",
      "'${facts['service_provider']}', not 'systemd': a container or a chroot?). Use",
      "service => 'boot', which only enables the boot oneshot, or 'none'.",
    ], ' '))
  }

  # The watch daemon has to run to keep the rules: running and enabled.
  # The boot oneshot is enabled only, never started here: it applies the
  # configuration set at the next boot, and this run has applied the rules
  # already (offloadctl::config).
  case $service {
    'watch': {
      service { 'offloadctl-boot':
        enable   => false,
        provider => 'systemd',
      }
      service { 'offloadctl-watch':
        ensure   => running,
        enable   => true,
        provider => 'systemd',
      }
    }
    'boot': {
      if $systemd {
        service { 'offloadctl-watch':
          ensure   => stopped,
          enable   => false,
          provider => 'systemd',
        }
        service { 'offloadctl-boot':
          enable   => true,
          provider => 'systemd',
        }
      } else {
        $path = "${facts['path']}:/usr/sbin:/usr/bin:/sbin:/bin"
        exec { "systemctl enable ${units['boot']}":
          command => "systemctl enable ${units['boot']}",
          unless  => "systemctl is-enabled ${units['boot']}",
          path    => $path,
        }
        # Not installed, or not enabled: nothing to do.
        exec { "systemctl disable ${units['watch']}":
          command => "systemctl disable ${units['watch']}",
          onlyif  => "systemctl is-enabled ${units['watch']}",
          path    => $path,
        }
      }
    }
    default: {}
  }

  # node_exporter's textfile of the facts, refreshed by the timer.
  if $metrics {
    service { 'offloadctl-metrics.timer':
      ensure   => running,
      enable   => true,
      provider => 'systemd',
    }
  }
}
