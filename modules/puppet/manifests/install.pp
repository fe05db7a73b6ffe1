# @summary Installs the offloadctl agent, from the archive or from a local .deb.
#
# @api private
class offloadctl::install {
  if $caller_module_name != $module_name {
    fail('offloadctl::install is private: include class offloadctl instead')
  }

  if $offloadctl::manage_package and $offloadctl::ensure == 'present' {
    if $offloadctl::package_source {
      package { 'offloadctl':
        ensure   => $offloadctl::package_ensure,
        name     => $offloadctl::package_name,
        provider => 'dpkg',
        source   => $offloadctl::package_source,
      }
    } else {
      package { 'offloadctl':
        ensure => $offloadctl::package_ensure,
        name   => $offloadctl::package_name,
      }
    }
  }
}
