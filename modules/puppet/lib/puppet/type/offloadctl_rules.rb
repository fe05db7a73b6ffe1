# frozen_string_literal: true

require 'digest/md5'
require_relative '../../puppet_x/offloadctl/scope'

Puppet::Type.newtype(:offloadctl_rules) do
  @doc = <<-DOC
    @summary
      One file of rules in an offloadctl scope, written and applied as the
      scope it belongs to: what class `offloadctl` uses for its rules and
      for the advice it follows.

    The file is `path`, in a scope: the host's (`<config_dir>/offloadctl.yaml`
    or `<config_dir>/conf.d/*.yaml`) or a named network namespace's
    (`<config_dir>/netns/<netns>/*.yaml`). Before anything is written, the
    agent checks the whole scope with `content` in the file's place
    (`offloadctl check --json`, the file on standard input): `features` is
    out of sync where a feature this file decides differs from the kernel,
    and `--noop` shows those features, current and wanted, per interface.
    A feature that a later file of the scope decides fails the resource,
    naming that file:line:column and the feature, and nothing of `content`
    is written or applied (on every run: never a flap), unless another
    resource of the catalog owns that file (a `nic_offload` drop-in refines
    the class's rules): then it is that file's, with a notice. When a
    rule of `content` cannot be reached (a fixed feature), the resource
    fails with the agent's message and the previous file stays as it was,
    so the boot unit and `watch` keep applying the last rules that worked.
    Otherwise the file is validated (`offloadctl validate`), written
    atomically, and the scope is applied on the interfaces this file
    changes (`offloadctl apply --ifname`); when that fails, the agent rolls
    the interfaces back and the previous file is put back.

    @example Rules for the veths of namespace blue
      offloadctl_rules { '/etc/offloadctl/netns/blue/50-local.yaml':
        netns   => 'blue',
        content => "version: 1\\ninterfaces:\\n  - match: {kind: veth}\\n    features: {tx: off}\\n",
      }
  DOC

  newparam(:path, namevar: true) do
    desc 'The file: `<config_dir>/offloadctl.yaml`, or a `*.yaml` in `<config_dir>/conf.d` or `<config_dir>/netns/<netns>`.'
    validate do |value|
      unless value.is_a?(String) && value.start_with?('/') && value.end_with?('.yaml')
        raise ArgumentError, "offloadctl_rules: '#{value}' is not an absolute path to a .yaml file"
      end
    end
  end

  newparam(:netns) do
    desc 'The named network namespace (as in /run/netns) whose scope the file is in. Default: the host scope.'
    validate do |value|
      unless value.is_a?(String) && value =~ %r{\A[^/\s]+\z} && !['.', '..'].include?(value)
        raise ArgumentError, "offloadctl_rules: '#{value}' is not a network namespace name"
      end
    end
  end

  newparam(:config_dir) do
    desc 'The agent\'s configuration directory. Default: /etc/offloadctl.'
    defaultto '/etc/offloadctl'
    validate do |value|
      raise ArgumentError, "offloadctl_rules: config_dir '#{value}' is not an absolute path" unless value.is_a?(String) && value.start_with?('/')
    end
  end

  newparam(:mark) do
    desc <<-DOC
      A line the file must start with to be replaced: an existing file that
      does not is someone else's, and is left as it is, with a notice
      (class `offloadctl` with `ensure => absent` empties only the
      offloadctl.yaml it wrote). Default: none, the file is always the
      resource's.
    DOC
    validate do |value|
      raise ArgumentError, 'offloadctl_rules: mark must be a non-empty string' unless value.is_a?(String) && !value.empty?
    end
  end

  newparam(:apply, boolean: true) do
    desc 'Whether to apply the scope where this file\'s features are out of sync (true), or only write the file, judged first all the same (false).'
    newvalues(:true, :false)
    defaultto :true
  end

  # Judged first: when the rules cannot be reached, the content is not
  # written.
  newproperty(:features) do
    desc <<-DOC
      Read only: the features this file decides, per interface, as the
      agent finds them against the whole scope. In sync when none of them
      needs a change; `--noop` shows the ones that do, current and wanted.
    DOC
    defaultto { (@resource[:apply] == :false) ? nil : 'in sync' }

    def retrieve
      provider.features_now
    end

    def insync?(_is)
      provider.features_insync?
    end

    def is_to_s(_value)
      provider.changes_to_s(:from)
    end

    def should_to_s(_value)
      provider.changes_to_s(:to)
    end

    def change_to_s(_from, _to)
      "features changed #{provider.changes_to_s(:from)} to #{provider.changes_to_s(:to)}"
    end
  end

  newproperty(:content) do
    desc 'The whole text of the file (offloadctl.yaml(5)).'
    validate do |value|
      raise ArgumentError, 'offloadctl_rules: content must be a string' unless value.is_a?(String)
    end

    # Nothing to write when the rules were refused. With apply => false
    # (no features to judge) the new content is still judged before it is
    # written: rules that cannot be reached never replace the file.
    def insync?(is)
      return true if provider.refused? || is == should || provider.foreign?
      provider.features_insync? if resource[:features].nil?
      false
    end

    def is_to_s(value)
      (value == :absent) ? 'absent' : "{md5}#{Digest::MD5.hexdigest(value)}"
    end

    def should_to_s(value)
      "{md5}#{Digest::MD5.hexdigest(value)}"
    end
  end

  validate do
    path = self[:path]
    cfg = self[:config_dir]
    dirs = self[:netns] ? [File.join(cfg, 'netns', self[:netns])] : [File.join(cfg, 'conf.d')]
    main = File.join(cfg, 'offloadctl.yaml')
    unless dirs.include?(File.dirname(path)) || (self[:netns].nil? && path == main)
      raise ArgumentError, "offloadctl_rules: #{path} is not a file of the scope #{self[:netns] ? "of netns '#{self[:netns]}'" : 'of the host'} " \
                           "(#{self[:netns] ? '' : "#{main} or "}#{dirs.first}/*.yaml)"
    end
  end

  # The file and what this run leaves in it (Scope.pending).
  def owned_file
    [self[:path], self[:content]]
  end

  # The file this resource owns (Scope.owners).
  def owned_path
    self[:path]
  end

  autorequire(:package) { ['offloadctl'] }
  autorequire(:file) do
    dirs = [self[:config_dir], File.dirname(self[:path])]
    dirs.insert(1, File.join(self[:config_dir], 'netns')) if self[:netns]
    dirs
  end
end
