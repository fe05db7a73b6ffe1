# @summary Runs the watch service or enables the boot oneshot, as asked.
#
# @api private
class offloadctl::service {
  if $caller_module_name != $module_name {
    fail('offloadctl::service is private: include class offloadctl instead')
  }

  # The watch daemon has to run to keep the rules: running and enabled.
  # The boot oneshot is enabled only, never started here: it applies the
  # configuration set at the next boot, and this run has applied the rules
  # already (offloadctl::config). Enabling and disabling need no running
  # systemd; starting does, so `watch` fails where systemd is not PID 1.
  case $offloadctl::service {
    'watch': {
      service { 'offloadctl-boot':
        enable => false,
      }
      service { 'offloadctl-watch':
        ensure => running,
        enable => true,
      }
    }
    'boot': {
      service { 'offloadctl-watch':
        ensure => stopped,
        enable => false,
      }
      service { 'offloadctl-boot':
        enable => true,
      }
    }
    default: {}
  }

  # node_exporter's textfile of the facts, refreshed by the timer.
  if $offloadctl::metrics {
    service { 'offloadctl-metrics.timer':
      ensure => running,
      enable => true,
    }
  }
}
