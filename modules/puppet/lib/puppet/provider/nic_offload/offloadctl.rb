# frozen_string_literal: true

require 'json'
require 'fileutils'
require_relative '../../../puppet_x/offloadctl/desired_state'
require_relative '../../../puppet_x/offloadctl/scope'

Puppet::Type.type(:nic_offload).provide(:offloadctl) do
  desc <<-DOC
    Runs the `offloadctl` agent found on PATH: one `offloadctl facts` per
    network namespace to prefetch every interface (a namespace whose facts
    cannot be read fails its own resources only), `offloadctl check --json`
    of the resource's scope, with its drop-in as it would be written on
    standard input, to decide whether a resource is in sync, and one
    `offloadctl apply --json --ifname IFACE` of that scope per changed
    resource.
  DOC

  confine kernel: 'Linux'
  defaultfor kernel: 'Linux'
  commands offloadctl: 'offloadctl'

  include PuppetX::Offloadctl::AgentProvider

  # The facts document of a namespace (nil: Puppet's own), from one call.
  def self.facts_document(netns)
    out, err, code = run_agent(netns, ['facts', '--format', 'json'])
    raise Puppet::Error, "offloadctl facts#{netns ? " in netns '#{netns}'" : ''} failed (exit #{code}): #{err.strip}" unless code.zero?
    JSON.parse(out)
  rescue JSON::ParserError => e
    raise Puppet::Error, "offloadctl facts printed something that is not JSON: #{e.message}"
  end

  # 'true' when the drop-in holds content, 'outdated' when it holds
  # something else, 'false' when there is none.
  def self.dropin_state(path, content)
    return :false unless File.exist?(path)
    (content && File.read(path) == content) ? :true : :outdated
  end

  def self.instances
    doc = facts_document(nil)
    interfaces = doc['interfaces'] || {}
    listings = listings(nil, interfaces)
    interfaces.keys.sort.map do |name|
      path = File.join('/etc/offloadctl/conf.d', "50-puppet-nic_offload-#{name.gsub(%r{[^A-Za-z0-9._-]}, '_')}.yaml")
      new(name: name,
          ensure: :present,
          features: listings[name],
          persist: File.exist?(path) ? :true : :false,
          iface: interfaces[name])
    end
  end

  # Every offload of every interface, for `puppet resource nic_offload`,
  # from the agent alone: the summary lines `ethtool -k` prints (the facts'
  # `offloads`, by long name), then the changeable kernel features none of
  # them stands for. Which kernel features a summary line stands for is the
  # agent's answer: one `check` of a rule naming every line, its `decided`.
  def self.listings(netns, interfaces)
    longs = interfaces.values.flat_map { |i| (i['offloads'] || {}).keys }.uniq.sort
    covered = Hash.new { |h, k| h[k] = [] }
    unless longs.empty?
      text = PuppetX::Offloadctl::DesiredState.render(
        'version' => 1,
        'defaults' => { 'missing-interface' => 'ignore', 'fixed-feature' => 'warn', 'fixed-member' => 'ignore', 'unmatched-rule' => 'ignore' },
        'interfaces' => [{ 'match' => { 'name' => '*' }, 'features' => longs.map { |l| [l, 'on'] }.to_h }],
      )
      out, err, code = run_agent(netns, ['-q', 'check', '--json', '-'], stdin: text)
      report = begin
                 JSON.parse(out)
               rescue JSON::ParserError
                 nil
               end
      raise Puppet::Error, "offloadctl check#{netns ? " in netns '#{netns}'" : ''} failed (exit #{code}): #{err.strip}" if report.nil? || code > 1
      (report['interfaces'] || {}).each { |ifname, entry| covered[ifname] = (entry['decided'] || {}).keys }
    end
    interfaces.each_with_object({}) do |(name, iface), all|
      out = {}
      (iface['offloads'] || {}).each { |long, line| out[long] = line['active'] ? 'on' : 'off' unless line['active'].nil? }
      (iface['features'] || {}).keys.sort.each do |k|
        f = iface['features'][k]
        next if f['fixed'] || covered[name].include?(k)
        out[k] = f['active'] ? 'on' : 'off'
      end
      all[name] = out
    end
  end

  # Every nic_offload of the catalog, not only the `resources` Puppet
  # hands over: that hash is keyed by interface name, and the same name in
  # two namespaces is two resources.
  def self.prefetch(resources)
    catalog = resources.values.first&.catalog
    all = catalog ? catalog.resources.select { |r| r.is_a?(Puppet::Type.type(:nic_offload)) && r.provider.is_a?(self) } : resources.values
    all.group_by { |r| r[:netns] }.each do |netns, group|
      begin
        interfaces = facts_document(netns)['interfaces'] || {}
        failure = nil
      rescue Puppet::Error => e
        interfaces = {}
        failure = e.message
      end
      group.each do |resource|
        iface = interfaces[resource[:name]]
        content = resource.managed? ? dropin_content(resource, resource[:features]) : nil
        # A namespace given by path has no scope, so no drop-in.
        persisted = netns.to_s.include?('/') ? :false : dropin_state(resource.dropin_path, content)
        ensure_is = if resource[:ensure] == :absent
                      (persisted == :false) ? :absent : :present
                    elsif iface || persisted == :true
                      :present
                    else
                      :absent
                    end
        resource.provider = new(name: resource[:name], ensure: ensure_is, iface: iface, persist: persisted,
                                failure: (resource[:ensure] == :absent) ? nil : failure)
      end
    end
  end

  # The drop-in of a resource with these features and its settings.
  def self.dropin_content(resource, features)
    where = resource[:netns] ? " in netns '#{resource[:netns]}'" : ''
    header = "Managed by Puppet: Nic_offload[#{resource.title}]#{where}.\n" \
             "Remove the resource with ensure => absent rather than this file."
    PuppetX::Offloadctl::DesiredState.for_interface(resource[:name], features, header, resource[:settings])
  end

  def initialize(value = {})
    super(value)
    @pending = {}
  end

  # A namespace whose facts could not be read fails its resources here,
  # the first thing Puppet asks, and no other.
  def exists?
    raise Puppet::Error, @property_hash[:failure] if @property_hash[:failure]
    @property_hash[:ensure] == :present
  end

  def interface_missing?
    @property_hash[:iface].nil?
  end

  # The state of every feature the resource names (the whole listing when
  # there is no resource, as for `puppet resource`): what the agent finds
  # each name stands for on the interface, and the state of those kernel
  # features now (on, off, mixed; nil when it stands for none here and the
  # facts hold nothing under that name).
  def features
    return @property_hash[:features] if resource.nil? || resource[:features].nil?
    return nil if interface_missing?
    should = resource[:features]
    v = verdict(should)
    lines = PuppetX::Offloadctl::DesiredState.feature_lines(self.class.dropin_content(resource, should))
    # A drop-in the agent refuses decides nothing (insync? says why).
    states = (v.code > 1) ? {} : v.states_by_line(resource[:name])
    iface = @property_hash[:iface] || {}
    should.keys.each_with_object({}) do |name, h|
      line = lines.key(name)
      values = (line && states[line]) ? states[line].values.uniq : []
      h[name] = if values.length > 1 then 'mixed'
                elsif values.length == 1 then values.first
                else fixed_state(iface, name)
                end
    end
  end

  # A name that decides nothing changeable (a fixed feature): its state as
  # the agent's facts hold it under that very name, if they do.
  def fixed_state(iface, name)
    entry = (iface['features'] || {})[name] || (iface['offloads'] || {})[name]
    return nil unless entry.is_a?(Hash) && [true, false].include?(entry['active'])
    entry['active'] ? 'on' : 'off'
  end

  # The current value of every setting the resource names, as the facts
  # hold it (group => parameter => value; nil where the driver has none).
  def settings
    return nil if resource.nil? || resource[:settings].nil? || interface_missing?
    iface = @property_hash[:iface] || {}
    resource[:settings].each_with_object({}) do |(group, params), h|
      now = iface[group].is_a?(Hash) ? iface[group] : {}
      h[group] = params.keys.each_with_object({}) { |k, g| g[k] = now[k] }
    end
  end

  def persist
    @property_hash[:persist] || :false
  end

  # The agent's verdict on the whole scope with this resource's drop-in for
  # should, once a run.
  def verdict(should)
    @verdicts ||= {}
    content = self.class.dropin_content(resource, should)
    @verdicts[content] ||= scope.judge(own_path, content, [resource[:name]])
  end

  # In sync when the agent's check of the whole scope, with this
  # resource's drop-in as it would be written, finds nothing to change in
  # what that drop-in decides. A feature a later file of the scope decides
  # is that file's: the resource fails, naming that file:line:column and
  # the feature, and nothing is changed (on every run: never a flap).
  def features_insync?(should)
    judged_insync?(should, :features)
  end

  # The settings (rings, channels, coalesce, pause, eee) are judged as the
  # features are: by the agent's check of the whole scope, restricted to
  # the settings this resource's drop-in decides.
  def settings_insync?(_should)
    judged_insync?(resource[:features], :settings)
  end

  def features=(value)
    @pending[:features] = value
  end

  def settings=(value)
    @pending[:settings] = value
  end

  def persist=(value)
    @pending[:persist] = value
  end

  # Only reached for an interface that does not exist (yet).
  def create
    if resource[:persist] == :false
      raise Puppet::Error, "interface '#{resource[:name]}' not found#{netns_words} and persist is false: nothing to do"
    end
    write_dropin(self.class.dropin_content(resource, resource[:features]))
    warning("interface '#{resource[:name]}' not found#{netns_words}: its drop-in #{resource.dropin_path} " \
            'is written; the agent applies it when the interface appears')
    @property_hash[:ensure] = :present
  end

  def destroy
    path = resource.dropin_path
    File.unlink(path) if File.exist?(path)
    @property_hash[:ensure] = :absent
  end

  # Set when `offloadctl check` found the desired state unreachable or
  # invalid: nothing of this resource is written or applied then.
  def refused?
    !@refused.nil?
  end

  def flush
    return if @pending.empty? || refused?
    persist_wanted = (@pending[:persist] || resource[:persist]) == :true
    path = persist_wanted ? resource.dropin_path : own_path
    before = (path && File.exist?(path)) ? File.read(path) : nil
    begin
      if persist_wanted
        write_dropin(self.class.dropin_content(resource, resource[:features]))
      elsif before
        File.unlink(path)
      end
      apply(resource[:features]) if @pending.key?(:features) || @pending.key?(:settings)
    rescue Puppet::Error, SystemCallError
      restore_dropin(path, before) if path
      raise
    end
    @pending = {}
  end

  private

  # features or settings (kind), for the drop-in the resource would write
  # with features: in sync when the agent finds nothing of that kind to
  # change in what the drop-in decides.  The agent already knows when the
  # kernel cannot hold it (a fixed feature, a value above the maximum), or
  # when a later file of the scope decides one of them: the property fails
  # with its words, and nothing is touched.
  def judged_insync?(features, kind)
    if interface_missing?
      info("interface '#{resource[:name]}' not found#{netns_words}: nothing to compare; the drop-in stands for it")
      return true
    end
    @refused = verdict(features).refusal(self, netns_words, 'this resource', fail_overrides: true)
    raise Puppet::Error, @refused if @refused
    verdict(features).in_sync_for?(kind)
  end

  def netns_words
    resource[:netns] ? " in netns '#{resource[:netns]}'" : ''
  end

  # The scope, with what the catalog's other owners leave in it this run.
  def scope
    @scope ||= PuppetX::Offloadctl::Scope.new(resource[:config_dir], resource[:netns], runner,
                                              PuppetX::Offloadctl::Scope.pending(resource.catalog, resource[:config_dir],
                                                                                 resource[:netns], own_path, runner))
  end

  # Where the drop-in is, or would be: its place in the scope's order. A
  # namespace given by path has no scope: the resource is judged alone.
  def own_path
    resource[:netns].to_s.include?('/') ? nil : resource.dropin_path
  end

  # One `offloadctl apply` of the scope, with this resource's drop-in, on
  # this interface alone.
  def apply(features)
    content = self.class.dropin_content(resource, features)
    report, code, err = scope.apply(own_path, content, [resource[:name]])
    unless code.zero?
      raise Puppet::Error, "offloadctl apply failed on '#{resource[:name]}'#{netns_words} (exit #{code})" \
                           "#{PuppetX::Offloadctl::Scope.failure_words(report, err)}"
    end
    (report['warnings'] || []).each { |w| warning("offloadctl: #{w}") }
    effects = ((report['interfaces'] || {})[resource[:name]] || {}).fetch('side_effects', [])
    return if effects.empty?
    notice('the kernel changed on its own: ' + effects.map { |s| "#{s['feature']} #{s['from']} -> #{s['to']}" }.join(', '))
  end

  def write_dropin(content)
    PuppetX::Offloadctl::OwnedFile.write(resource.dropin_path, content, runner, "the drop-in for '#{resource[:name]}'")
  end

  def restore_dropin(path, before)
    PuppetX::Offloadctl::OwnedFile.restore(path, before, runner, self)
  end
end
