# frozen_string_literal: true

require 'json'
require 'open3'
require 'fileutils'
require_relative '../../../puppet_x/offloadctl/desired_state'

Puppet::Type.type(:nic_offload).provide(:offloadctl) do
  desc <<-DOC
    Runs the `offloadctl` agent found on PATH: one `offloadctl facts` per
    network namespace to prefetch every interface, `offloadctl check --json -`
    to decide whether a resource is in sync, and one
    `offloadctl apply --json -` per changed resource, with the resource's
    desired state on standard input.
  DOC

  confine kernel: 'Linux'
  defaultfor kernel: 'Linux'
  commands offloadctl: 'offloadctl'

  # Run the agent: [stdout, stderr, exit status]. Never raises on a non-zero
  # exit; the callers decide what each code means.
  def self.run_agent(netns, args, stdin: nil)
    cmd = [command(:offloadctl)]
    cmd += ['--netns', netns] if netns
    cmd += args
    Puppet.debug("Executing: #{cmd.join(' ')}")
    out, err, status = Open3.capture3(*cmd, stdin_data: stdin.to_s)
    [out, err, status.exitstatus]
  end

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
    (doc['interfaces'] || {}).keys.sort.map do |name|
      iface = doc['interfaces'][name]
      path = File.join('/etc/offloadctl/conf.d', "50-puppet-nic_offload-#{name.gsub(%r{[^A-Za-z0-9._-]}, '_')}.yaml")
      new(name: name,
          ensure: :present,
          features: PuppetX::Offloadctl::Names.listing(iface),
          persist: File.exist?(path) ? :true : :false,
          iface: iface)
    end
  end

  def self.prefetch(resources)
    resources.values.group_by { |r| r[:netns] }.each do |netns, group|
      interfaces = facts_document(netns)['interfaces'] || {}
      group.each do |resource|
        iface = interfaces[resource[:name]]
        content = resource[:features] && dropin_content(resource, resource[:features])
        persisted = dropin_state(resource.dropin_path, content)
        ensure_is = if resource[:ensure] == :absent
                      (persisted == :false) ? :absent : :present
                    elsif iface || persisted == :true
                      :present
                    else
                      :absent
                    end
        resource.provider = new(name: resource[:name], ensure: ensure_is, iface: iface, persist: persisted)
      end
    end
  end

  # The drop-in of a resource with these features.
  def self.dropin_content(resource, features)
    where = resource[:netns] ? " in netns '#{resource[:netns]}'" : ''
    header = "Managed by Puppet: Nic_offload[#{resource[:name]}]#{where}.\n" \
             "Remove the resource with ensure => absent rather than this file."
    PuppetX::Offloadctl::DesiredState.for_interface(resource[:name], features, header)
  end

  def initialize(value = {})
    super(value)
    @pending = {}
  end

  def exists?
    @property_hash[:ensure] == :present
  end

  def interface_missing?
    @property_hash[:iface].nil?
  end

  # The state of every feature the resource names (the whole listing when
  # there is no resource, as for `puppet resource`).
  def features
    iface = @property_hash[:iface]
    return @property_hash[:features] if resource.nil? || resource[:features].nil?
    return nil if iface.nil?
    resource[:features].keys.each_with_object({}) { |k, h| h[k] = PuppetX::Offloadctl::Names.state(k, iface) }
  end

  def persist
    @property_hash[:persist] || :false
  end

  # In sync when the agent finds nothing to change on the interface.
  def features_insync?(should)
    if interface_missing?
      info("interface '#{resource[:name]}' not found#{netns_words}: nothing to compare; the drop-in stands for it")
      return true
    end
    doc = PuppetX::Offloadctl::DesiredState.for_interface(resource[:name], should)
    out, err, code = self.class.run_agent(resource[:netns], ['check', '--json', '-'], stdin: doc)
    case code
    when 0 then true
    when 1
      errors = parse_report(out)['errors'] || []
      return false if errors.empty?
      # The agent already knows the kernel cannot hold this (a fixed
      # feature): fail the property with its words, touch nothing.
      @refused = "offloadctl check#{netns_words}: #{errors.join('; ')}"
      raise Puppet::Error, @refused
    else
      @refused = "offloadctl check#{netns_words} failed (exit #{code}): #{agent_message(out, err)}"
      raise Puppet::Error, @refused
    end
  end

  def features=(value)
    @pending[:features] = value
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
    path = resource.dropin_path
    before = File.exist?(path) ? File.read(path) : nil
    begin
      if persist_wanted
        write_dropin(self.class.dropin_content(resource, resource[:features]))
      elsif before
        File.unlink(path)
      end
      apply(resource[:features]) if @pending.key?(:features)
    rescue Puppet::Error, SystemCallError
      restore_dropin(path, before)
      raise
    end
    @pending = {}
  end

  private

  def netns_words
    resource[:netns] ? " in netns '#{resource[:netns]}'" : ''
  end

  def parse_report(out)
    JSON.parse(out)
  rescue JSON::ParserError
    {}
  end

  def agent_message(out, err)
    report = parse_report(out)
    msgs = (report['errors'] || []).map(&:to_s)
    msgs = [err.strip] if msgs.empty? && !err.strip.empty?
    msgs = ["no message; stdout: #{out.strip}"] if msgs.empty?
    msgs.join('; ')
  end

  # One `offloadctl apply` of this resource's desired state.
  def apply(features)
    doc = PuppetX::Offloadctl::DesiredState.for_interface(resource[:name], features)
    out, err, code = self.class.run_agent(resource[:netns], ['apply', '--json', '-'], stdin: doc)
    report = parse_report(out)
    unless code.zero?
      rolled = report['rolled_back'] ? ' (rolled back)' : ''
      raise Puppet::Error, "offloadctl apply failed on '#{resource[:name]}'#{netns_words} (exit #{code})#{rolled}: #{agent_message(out, err)}"
    end
    (report['warnings'] || []).each { |w| warning("offloadctl: #{w}") }
    effects = ((report['interfaces'] || {})[resource[:name]] || {}).fetch('side_effects', [])
    return if effects.empty?
    notice('the kernel changed on its own: ' + effects.map { |s| "#{s['feature']} #{s['from']} -> #{s['to']}" }.join(', '))
  end

  # Validate with the agent, then write beside the target and rename, so the
  # boot unit and `watch` only ever read a whole, valid file.
  def write_dropin(content)
    path = resource.dropin_path
    return if File.exist?(path) && File.read(path) == content
    out, err, code = self.class.run_agent(nil, ['validate', '-'], stdin: content)
    raise Puppet::Error, "offloadctl validate refused the drop-in for '#{resource[:name]}' (exit #{code}): #{agent_message(out, err)}" unless code.zero?
    dir = File.dirname(path)
    FileUtils.mkdir_p(dir)
    tmp = File.join(dir, ".#{File.basename(path)}.#{Process.pid}.tmp")
    begin
      File.open(tmp, File::WRONLY | File::CREAT | File::TRUNC, 0o644) do |f|
        f.write(content)
        f.flush
        f.fsync
      end
      File.rename(tmp, path)
    ensure
      File.unlink(tmp) if File.exist?(tmp)
    end
  end

  def restore_dropin(path, before)
    if before.nil?
      File.unlink(path) if File.exist?(path)
    else
      write_dropin(before)
    end
  rescue StandardError => e
    warning("could not restore #{path}: #{e.message}")
  end
end
