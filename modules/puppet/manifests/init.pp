# @summary
#   Installs the offloadctl agent, writes the offload rules of this host and
#   keeps its NIC offloads as declared.
#
# Every parameter has its default in the module's Hiera data (data/common.yaml);
# set them in Hiera (`offloadctl::rules: ...`) or as class parameters.
#
# The rules are written to their scope (`<config_dir>/offloadctl.yaml` for
# the host, `<config_dir>/netns/<netns>/40-puppet-offloadctl.yaml` with
# `netns`) by an `offloadctl_rules` resource, which judges them by the whole
# scope as the boot unit and `watch` apply it: the agent's `offloadctl check`
# of the scope with the new rules in their file's place, before anything is
# written. They are applied where a feature they decide is out of sync;
# `--noop` shows those features, current and wanted, per interface. A rule
# that cannot be reached (a fixed feature) fails the resource with the
# agent's message and leaves the previous file in place, so the boot unit
# and `watch` keep the last rules that worked. A feature that a later file
# of the scope decides (an admin's `60-local.yaml`) fails the resource, naming that file (file:line:column), the feature and
# what to do, and nothing of the rules is written or applied (on every run:
# never a flap); a feature decided by a file that another resource of the
# same catalog owns (a `nic_offload` drop-in, which exists to refine the
# class, or the class's own advice drop-in) is left to it, with a notice.
# The rules are written as JSON, which is YAML: names and values as given,
# judged by the agent, whose messages name the line.
#
# `ensure => absent` takes the class's rules out of its scope and leaves
# everything else: the drop-in in a namespace's scope and the advice
# drop-in are removed, the host's offloadctl.yaml is emptied (`interfaces:
# []`, it stays: the package installs it and the boot unit needs a
# configuration) when the class wrote it and left alone when it did not,
# and fact.conf goes (the fact falls back to `summary`). The interfaces
# keep their offloads; the package, the units, other owners' drop-ins and
# the directories are not touched, whatever `manage_package`, `service`
# and `metrics` say: they are host-wide, shared with other scopes and
# tools. Remove the package with a `package` resource of your own.
#
# @example Xen domU: TX checksumming off on every netfront interface
#   class { 'offloadctl':
#     manage_package => true,
#     service        => 'watch',
#     rules          => {
#       'interfaces' => [
#         {
#           'match'    => { 'module' => 'xen_netfront', 'virtualization' => 'xen-domU' },
#           'features' => { 'tx' => 'off' },
#         },
#       ],
#     },
#   }
#
# @example Follow the founding case's advice (and only it) wherever it fires
#   class { 'offloadctl':
#     follow_advice => ['xen-netfront-tx-csum'],
#   }
#
# @example Only on Xen domUs, from the module's fact
#   if $facts.dig('offloadctl', 'virtualization', 'xen', 'domain') == 'domU' {
#     class { 'offloadctl':
#       rules => { 'interfaces' => [{ 'match' => { 'name' => 'eth*' }, 'features' => { 'tx' => 'off' } }] },
#     }
#   }
#
# @example Give up the rules of namespace blue (the interfaces stay as they are)
#   class { 'offloadctl':
#     ensure => absent,
#     netns  => 'blue',
#   }
#
# @param ensure
#   `present` (the default): install, write and apply as the other
#   parameters say. `absent`: remove what the class wrote in its scope (its
#   rules, its advice drop-in, fact.conf) and nothing else; see above.
# @param manage_package
#   Whether to install the agent. Default: false (the agent is installed some
#   other way, or is on PATH already).
# @param package_name
#   The package to install. Default: `offloadctl`.
# @param package_ensure
#   `installed`, `latest` or a version. Default: `installed`.
# @param package_source
#   An absolute path to a local .deb: installs it with the dpkg provider
#   instead of from the package archive. Default: undef.
# @param rules
#   The desired state of offloadctl.yaml(5) as a hash (`version: 1` is added
#   when missing). Undef (the default) leaves offloadctl.yaml alone and
#   applies nothing.
# @param follow_advice
#   Ids of the advice knowledge base (docs/advice.md, `offloadctl advise
#   --list-ids`) to follow: for every interface the `offloadctl` fact gives
#   such advice for, its recommended settings become a rule for that
#   interface, in `<config_dir>/conf.d/40-puppet-advice.yaml`. Advice not
#   listed is reported as a notice and changes nothing. Default: [] (advice
#   changes nothing). The fact describes the namespace Puppet runs in; with
#   `netns` set, follow advice from a fact gathered there.
# @param apply
#   Whether to apply the scope where what `rules` and `follow_advice` decide
#   is out of sync (false: only write them). Default: true.
# @param service
#   `watch`: run `offloadctl-watch.service` (applies at boot, configures
#   hot-plugged interfaces, reverts drift) and disable the boot unit;
#   `boot`: enable the `offloadctl-boot.service` oneshot (it is not started:
#   it applies the configuration set at the next boot, and the class applies
#   the rules itself) and stop and disable the watch service; `none` (the
#   default): leave both units alone. Both units are systemd units, managed
#   with the systemd provider. Where systemd is not the running service
#   manager (Puppet's `service_provider` fact is not `systemd`: a container,
#   a chroot), `watch` fails the catalog with a message that says so, and
#   `boot` enables the oneshot and disables watch with `systemctl`, which
#   works on the unit files alone.
# @param fact
#   What the external fact `offloadctl` holds: `summary` (virtualisation and
#   the ethtool -k summary of every interface, about 1 KiB an interface),
#   `full` (every kernel feature too) or `none` (the fact is empty).
#   Default: `summary`. Written to `<config_dir>/fact.conf`, which the fact
#   reads from /etc/offloadctl.
# @param metrics
#   Whether to keep node_exporter's textfile of the facts fresh: true enables
#   and starts `offloadctl-metrics.timer`, which writes
#   /var/lib/prometheus/node-exporter/offloadctl.prom every minute
#   (`offloadctl facts --format prometheus`); false (the default) leaves the
#   timer alone. Needs systemd as the running service manager (the catalog
#   fails without it, as for `service => 'watch'`).
# @param config_dir
#   The agent's configuration directory. Default: /etc/offloadctl.
# @param netns
#   A named network namespace (as in /run/netns) whose interfaces the rules
#   are for: they are written to its scope,
#   `<config_dir>/netns/<netns>/40-puppet-offloadctl.yaml`, never to the
#   host's configuration set, and checked and applied inside it. Default:
#   undef, the host scope (`<config_dir>/offloadctl.yaml`).
class offloadctl (
  Enum['present', 'absent'] $ensure,
  Boolean $manage_package,
  String[1] $package_name,
  String[1] $package_ensure,
  Optional[Pattern[/\A\/.+\.deb\z/]] $package_source,
  Optional[Offloadctl::Rules] $rules,
  Array[Pattern[/\A[a-z0-9]+(-[a-z0-9]+)*\z/]] $follow_advice,
  Boolean $apply,
  Enum['none', 'watch', 'boot'] $service,
  Enum['summary', 'full', 'none'] $fact,
  Boolean $metrics,
  Pattern[/\A\/./] $config_dir,
  Optional[String[1]] $netns,
) {
  contain offloadctl::install
  contain offloadctl::config
  contain offloadctl::service

  Class['offloadctl::install']
  -> Class['offloadctl::config']
  -> Class['offloadctl::service']
}
