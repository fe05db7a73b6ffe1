# frozen_string_literal: true

require_relative '../../../puppet_x/offloadctl/scope'

Puppet::Type.type(:offloadctl_rules).provide(:offloadctl) do
  desc <<-DOC
    Runs the `offloadctl` agent found on PATH: `offloadctl check --json` of
    the file's scope with the new content on standard input in the file's
    place, `offloadctl validate -` before the file is written, and
    `offloadctl apply --json --ifname ...` of the scope on the interfaces
    where what the file decides is out of sync.
  DOC

  confine kernel: 'Linux'
  defaultfor kernel: 'Linux'
  commands offloadctl: 'offloadctl'

  include PuppetX::Offloadctl::AgentProvider

  def initialize(value = {})
    super(value)
    @pending = {}
  end

  def content
    File.exist?(resource[:path]) ? File.read(resource[:path]) : :absent
  end

  def content=(value)
    @pending[:content] = value
  end

  # The features the file would change, by interface: what they are now.
  def features_now
    verdict && changes_to_s(:from)
  end

  def features=(_value)
    @pending[:features] = true
  end

  # The agent's verdict on the scope with the new content, once a run.
  def verdict
    @verdict ||= scope.judge(resource[:path], resource[:content])
  end

  # Unreachable or invalid rules are refused: the previous file stays, so
  # the boot unit and watch keep applying rules that work. So are rules a
  # later file of the scope overrides, unless another resource of the
  # catalog owns that file (a nic_offload drop-in refines the class).
  def features_insync?
    return true if foreign?
    owned = PuppetX::Offloadctl::Scope.owners(resource.catalog, resource[:config_dir], resource[:netns], resource[:path])
    @refused = verdict.refusal(self, netns_words, resource[:path], "; #{resource[:path]} is left as it was",
                               fail_overrides: true, owned: owned)
    raise Puppet::Error, @refused if @refused
    verdict.in_sync?
  end

  # The file is there and does not start with the resource's mark: someone
  # else's, left as it is (said once).
  def foreign?
    return @foreign unless @foreign.nil?
    mark = resource[:mark]
    path = resource[:path]
    @foreign = !mark.nil? && File.exist?(path) && !File.read(path).start_with?(mark)
    notice("#{path} does not start with '#{mark}': not written by Puppet, left as it is") if @foreign
    @foreign
  end

  def refused?
    !@refused.nil?
  end

  # '{iface: feature => value, ...}' for the changes this file would make.
  def changes_to_s(side)
    return '(not judged)' if verdict.code > 1
    key = side.to_s
    '{' + verdict.todo.keys.sort.map { |i| "#{i}: " + verdict.todo[i].map { |c| "#{c['feature']} => #{c[key]}" }.join(', ') }.join('; ') + '}'
  end

  def flush
    return if @pending.empty? || refused? || foreign?
    path = resource[:path]
    before = File.exist?(path) ? File.read(path) : nil
    begin
      PuppetX::Offloadctl::OwnedFile.write(path, resource[:content], runner, path) if @pending.key?(:content)
      apply if @pending.key?(:features) && resource[:apply] != :false
    rescue Puppet::Error, SystemCallError
      PuppetX::Offloadctl::OwnedFile.restore(path, before, runner, self)
      raise
    end
    @pending = {}
  end

  private

  def scope
    @scope ||= PuppetX::Offloadctl::Scope.new(resource[:config_dir], resource[:netns], runner,
                                              PuppetX::Offloadctl::Scope.pending(resource.catalog, resource[:config_dir],
                                                                                 resource[:netns], resource[:path], runner))
  end

  def netns_words
    resource[:netns] ? " in netns '#{resource[:netns]}'" : ''
  end

  def apply
    ifnames = verdict.todo.keys.sort
    return if ifnames.empty?
    report, code, err = scope.apply(resource[:path], resource[:content], ifnames)
    unless code.zero?
      raise Puppet::Error, "offloadctl apply#{netns_words} failed (exit #{code})#{PuppetX::Offloadctl::Scope.failure_words(report, err)}; " \
                           "#{resource[:path]} is put back as it was"
    end
    (report['warnings'] || []).each { |w| warning("offloadctl: #{w}") }
    effects = (report['interfaces'] || {}).flat_map { |i, e| (e['side_effects'] || []).map { |s| "#{i}: #{s['feature']} #{s['from']} -> #{s['to']}" } }
    notice("the kernel changed on its own: #{effects.join(', ')}") unless effects.empty?
  end
end
