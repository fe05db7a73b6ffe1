# @summary Runs the watch service or enables the boot oneshot, as asked.
#
# @api private
class offloadctl::service {
  if $caller_module_name != $module_name {
    fail('offloadctl::service is private: include class offloadctl instead')
  }

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
}
