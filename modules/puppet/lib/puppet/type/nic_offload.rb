# frozen_string_literal: true

require_relative '../../puppet_x/offloadctl/desired_state'
require_relative '../../puppet_x/offloadctl/scope'
require_relative '../../puppet_x/offloadctl/values'

Puppet::Type.newtype(:nic_offload) do
  @doc = <<-DOC
    @summary
      The offload features of one network interface, set through offloadctl
      and kept across reboots by a drop-in of the offloadctl configuration.

    One resource per interface and namespace: the title is the interface
    name, or `NETNS/IFACE` for an interface of a network namespace, so that
    `blue/veth0` and `red/veth0` are two resources. `features`
    names the offloads to manage, each `on` or `off`, by ethtool short name
    (`tx`, `tso`, `gro`, ...), ethtool long name (`tx-checksumming`,
    `generic-receive-offload`, ...) or kernel name (`tx-checksum-ip-generic`,
    `rx-gro`, ...), exactly as `ethtool -K` and offloadctl.yaml(5) accept
    them: the agent says what each name stands for (a legacy name stands for
    every changeable kernel feature matching ethtool's pattern) and which
    words it takes; the type keeps no list of its own. Features not named
    are left alone.

    The provider runs the `offloadctl` found on PATH. It reads every
    interface with one `offloadctl facts` call per network namespace (a
    namespace that is missing fails its own resources, not the others). It
    judges a resource by the whole scope its drop-in belongs to, as the boot
    unit and `watch` apply it: `offloadctl check` of the scope with the
    resource's drop-in as it would be written, restricted to the features
    that drop-in decides. Where a later file of the scope decides one of
    them instead (an admin's `60-local.yaml`), the resource fails, naming
    that file:line:column and the feature, and writes and applies nothing:
    the feature stays as that file says, on every run, so the two never
    flap. Remove or change that file, or drop the feature from the resource. A change is applied with one `offloadctl apply` of the scope
    on that interface; the kernel's refusal fails the resource with the
    agent's message, and whatever had changed is rolled back by the agent.

    What the resource sets is also written, atomically and validated, as
    JSON (which is YAML: names and values as given, one a line) to
    `<config_dir>/conf.d/50-puppet-nic_offload-<interface>.yaml` (or, with
    `netns`, `<config_dir>/netns/<netns>/`: that namespace's scope), so the boot
    unit, the udev rule and `offloadctl watch` keep it after a reboot or a
    hot-plug. `ensure => absent` removes that drop-in and leaves the
    interface as it is.

    @example TX checksumming off on a Xen netfront interface
      nic_offload { 'eth0':
        features => { 'tx' => 'off' },
      }

    @example Kernel names, inside a network namespace
      nic_offload { 'veth0':
        netns    => 'blue',
        features => { 'tx-checksum-ip-generic' => 'off', 'rx-gro' => 'on' },
      }

    @example The same interface name in two namespaces
      nic_offload { 'blue/veth0': features => { 'tx' => 'off' } }
      nic_offload { 'red/veth0':  features => { 'tx' => 'on' } }
  DOC

  ensurable do
    desc <<-DOC
      `present` (the default): the interface holds `features` and its drop-in
      exists. `absent`: the drop-in is removed; the interface keeps its
      current offloads. An interface that does not exist yet gets its drop-in
      (the agent applies it when the interface appears) and a warning.
    DOC
    defaultvalues
    defaultto :present
  end

  newparam(:name, namevar: true) do
    desc 'The interface name, as `ip link` shows it (the title without its `NETNS/`).'
    validate do |value|
      # The kernel's dev_valid_name(): 1 to 15 bytes, no '/', ':' or space.
      unless value.is_a?(String) && value =~ %r{\A[^/:\s]{1,15}\z} && !['.', '..'].include?(value)
        raise ArgumentError, "nic_offload: '#{value}' is not a valid interface name"
      end
    end
  end

  newproperty(:features) do
    include PuppetX::Offloadctl::Values::Shown

    desc <<-DOC
      The offloads to manage, a hash of feature name to `on` or `off` (or
      a Boolean, or another word the agent takes for them: `yes`, `no`, ...).
      Names are ethtool short or long names or kernel feature names. The
      resource keeps no list of either: the agent judges them when the
      resource is checked, and refuses what it does not know, naming the
      drop-in's line. The current value of a name is `on` when every
      kernel feature the agent finds it stands for on the interface is on,
      `off` when none is, `mixed` otherwise, `absent` when it stands for
      none there.
    DOC

    validate do |value|
      PuppetX::Offloadctl::Values.check_map(value, 'features', 'a feature name', 'on or off') do |v|
        [true, false].include?(v) || (v.is_a?(String) && !v.strip.empty?)
      end
    end

    # The agent decides: `offloadctl check` on this resource's desired state.
    def insync?(is)
      return true if is.nil? && provider.interface_missing?
      provider.features_insync?(should)
    end
  end

  newproperty(:settings) do
    include PuppetX::Offloadctl::Values::Shown

    desc <<-DOC
      ethtool's other settings to manage, beside or instead of `features`:
      a hash of group (`rings`, `channels`, `coalesce`, `pause`, `eee`) to
      a hash of the parameters `ethtool -G`, `-L`, `-C`, `-A` and
      `--set-eee` take, each a count or `max` (rings, channels), a number
      or `on`/`off` (coalesce), `on`/`off` (pause, eee), as
      offloadctl.yaml(5) says. The agent judges names and values, refuses a
      value above the driver's maximum (naming it) and translates
      `combined` for a NIC that has only rx/tx channels (and the reverse),
      with a warning. Its current value is what the facts hold for each
      named parameter. A change to rings or channels may reset the link
      (the driver reallocates its queues).
    DOC

    validate do |value|
      values = PuppetX::Offloadctl::Values
      values.check_map(value, 'settings', 'a group name', 'a hash of parameter to value (rings, channels, ...)') do |params, group|
        values.check_map(params, "settings '#{group}'", 'a parameter name', 'a number, max, on or off') do |v|
          [true, false].include?(v) || v.is_a?(Integer) || (v.is_a?(String) && !v.strip.empty?)
        end
        true
      end
    end

    def insync?(is)
      return true if is.nil? && provider.interface_missing?
      provider.settings_insync?(should)
    end
  end

  newproperty(:persist) do
    desc <<-DOC
      Whether `features` is also written as a drop-in in the scope of the
      interface's namespace (`<config_dir>/conf.d/` for the host,
      `<config_dir>/netns/<netns>/` for a named namespace) so that the agent
      keeps it after a reboot.
      `false` removes a drop-in written before. Its current value is `true`
      (the drop-in holds this resource's features), `outdated` (it holds
      something else) or `false` (there is none).
    DOC
    newvalues(:true, :false)
    defaultto :true

    # Without features or settings there is nothing to write (`puppet
    # resource` lists interfaces this way), nor when they were refused: the
    # drop-in keeps what was last reached.
    def insync?(is)
      return true if !resource.managed? || provider.refused?
      is.to_s == should.to_s
    end
  end

  newparam(:netns) do
    desc <<-DOC
      A network namespace the interface lives in: a name from /run/netns or
      a path such as /proc/PID/ns/net (offloadctl's `--netns`). Default: the
      namespace Puppet runs in. With `name`, it names the resource, so the
      same interface name can be managed in several namespaces; a title
      `NETNS/IFACE` sets both.
    DOC
    isnamevar
    validate do |value|
      unless value.is_a?(String) && value =~ %r{\A[^\s]+\z}
        raise ArgumentError, "nic_offload: '#{value}' is not a network namespace name or path"
      end
    end
  end

  # `blue/veth0` is veth0 in namespace blue (an interface name holds no
  # '/', so everything before the last one is the namespace, a name or a
  # path); `veth0` is veth0 in Puppet's own namespace or in `netns`.
  def self.title_patterns
    [
      [%r{\A(.+)/([^/]+)\z}m, [[:netns], [:name]]],
      [%r{\A(.*)\z}m, [[:name]]],
    ]
  end

  newparam(:config_dir) do
    desc <<-DOC
      The agent's configuration directory (offloadctl's `--config-dir`).
      The drop-in goes to its host scope (`conf.d/`), or to the scope of the
      named namespace `netns` (`netns/<netns>/`), so that a rule meant for a
      namespace never lands in the host's configuration set. Default:
      /etc/offloadctl.
    DOC
    defaultto '/etc/offloadctl'

    validate do |value|
      raise ArgumentError, "nic_offload: config_dir '#{value}' is not an absolute path" unless value.is_a?(String) && value.start_with?('/')
    end
  end

  # Whether the resource names anything to manage: features or settings.
  def managed?
    !self[:features].nil? || !self[:settings].nil?
  end

  # The file this resource writes.
  def dropin_path
    name = self[:name].gsub(%r{[^A-Za-z0-9._-]}, '_')
    File.join(scope_dir, "50-puppet-nic_offload-#{name}.yaml")
  end

  # The scope the drop-in belongs to (CONTRACT.md "Scopes and owners").
  def scope_dir
    scope = PuppetX::Offloadctl::Scope.new(self[:config_dir], self[:netns], nil)
    return scope.dir if scope.own?
    raise Puppet::Error, "nic_offload[#{self[:name]}]: a namespace given by path ('#{self[:netns]}') has " \
                         'no scope to persist to; name it as in /run/netns, or set persist => false'
  end

  # The file this resource owns (Scope.owners): its drop-in, none for a
  # namespace given by path.
  def owned_path
    (self[:netns] && self[:netns].include?('/')) ? nil : dropin_path
  end

  # The drop-in and what this run leaves in it (Scope.pending): nothing
  # known without features, none with ensure => absent or persist => false.
  def owned_file
    return nil if !managed? || (self[:netns] && self[:netns].include?('/'))
    gone = self[:ensure] == :absent || self[:persist] == :false
    [dropin_path, gone ? nil : provider.class.dropin_content(self, self[:features])]
  end

  autorequire(:package) { ['offloadctl'] }
  autorequire(:file) do
    dirs = [self[:config_dir], File.join(self[:config_dir], 'conf.d')]
    dirs += [File.join(self[:config_dir], 'netns'), File.join(self[:config_dir], 'netns', self[:netns])] if self[:netns] && !self[:netns].include?('/')
    dirs
  end
end
