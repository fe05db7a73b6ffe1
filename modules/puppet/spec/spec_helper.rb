# frozen_string_literal: true

# A plain spec_helper for rspec-puppet (Debian's ruby-rspec-puppet), without
# puppetlabs_spec_helper, which Debian does not package: the module is put on
# a modulepath of its own as `offloadctl` (a symlink in a temporary
# directory: a release tarball carries no symlink), with Puppet's
# directories in that temporary directory too.  Run from modules/puppet:
#   rspec            (make check runs it through tests/test_puppet_spec.py)
require 'fileutils'
require 'json'
require 'open3'
require 'tmpdir'
require 'rspec-puppet'

MODULE_ROOT = File.expand_path('..', __dir__)
SPEC_TMP = Dir.mktmpdir('offloadctl-rspec-')
FileUtils.mkdir_p(File.join(SPEC_TMP, 'modules'))
File.symlink(MODULE_ROOT, File.join(SPEC_TMP, 'modules', 'offloadctl'))
FileUtils.mkdir_p(File.join(SPEC_TMP, 'manifests'))
File.write(File.join(SPEC_TMP, 'manifests', 'site.pp'), '')
at_exit { FileUtils.rm_rf(SPEC_TMP) }

# Facts of a Debian 12 node as facter 4 reports them: what the manifests read.
DEBIAN12_FACTS = {
  'kernel' => 'Linux',
  'path' => '/usr/sbin:/usr/bin:/sbin:/bin',
  'os' => {
    'name' => 'Debian', 'family' => 'Debian',
    'release' => { 'major' => '12', 'full' => '12.8' }
  },
  'osfamily' => 'Debian',
  'operatingsystem' => 'Debian',
  'service_provider' => 'systemd',
}.freeze

RSpec.configure do |c|
  # the module is linked into SPEC_TMP above, never into spec/fixtures
  c.setup_fixtures = false
  c.module_path = File.join(SPEC_TMP, 'modules')
  c.manifest = File.join(SPEC_TMP, 'manifests', 'site.pp')
  c.environmentpath = SPEC_TMP
  c.default_facts = DEBIAN12_FACTS
  c.before(:each) do
    Puppet[:vardir] = File.join(SPEC_TMP, 'var')
    Puppet[:confdir] = File.join(SPEC_TMP, 'conf')
  end
end

# The module's providers reach the agent through one door, run_agent: the
# provider specs stub it with answers, [stdout, stderr, exit status] each,
# and get back what was asked ({netns, args, stdin} a call). Which files a
# scope holds is the real agent's answer (`validate --json` on the spec's
# temporary directory; $OFFLOADCTL names it, or the one on PATH), never
# one of the stubbed answers.
module AgentAnswers
  def real_agent(netns, args)
    exe = ENV['OFFLOADCTL'] || 'offloadctl'
    cmd = [exe] + (netns ? ['--netns', netns] : []) + args
    out, err, status = Open3.capture3(*cmd)
    [out, err, status.exitstatus]
  end

  def agent_answers(*answers)
    calls = []
    allow(provider_class).to receive(:run_agent) do |netns, args, stdin: nil|
      next real_agent(netns, args) if args.first == '--config-dir' && args[2, 2] == ['validate', '--json']
      calls << { netns: netns, args: args, stdin: stdin }
      answers.shift || raise("unexpected agent call #{args.inspect}")
    end
    calls
  end
end

RSpec.configure { |c| c.include AgentAnswers }
