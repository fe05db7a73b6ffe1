# frozen_string_literal: true

require 'spec_helper'

# The provider with the agent stubbed at its one door, run_agent.
describe Puppet::Type.type(:offloadctl_rules).provider(:offloadctl) do
  let(:provider_class) { described_class }
  let(:confdir) { Dir.mktmpdir('offloadctl-rules-') }
  let(:path) { File.join(confdir, 'netns', 'blue', '40-puppet-offloadctl.yaml') }
  let(:admin) { File.join(confdir, 'netns', 'blue', '60-admin.yaml') }
  after(:each) { FileUtils.rm_rf(confdir) }

  def resource(content = "version: 1\n# new\n")
    Puppet::Type.type(:offloadctl_rules).new(path: path, netns: 'blue', config_dir: confdir, content: content,
                                             provider: :offloadctl)
  end

  # A check report: veth1's rx-gro decided by `by`, changed from off to on
  # when change is true.
  def report(by, change: false, errors: [])
    { 'errors' => errors, 'warnings' => [],
      'interfaces' => { 'veth1' => { 'decided' => { 'rx-gro' => { 'value' => 'on', 'by' => by } },
                                     'changes' => change ? [{ 'feature' => 'rx-gro', 'from' => 'off', 'to' => 'on' }] : [] } } }.to_json
  end

  # A resource the agent found out of sync on veth1 (by its rx-gro line).
  def judged_out_of_sync
    r = resource
    agent_answers([report('<stdin>:8:7', change: true), '', 1], [report('<stdin>:8:7', change: true), '', 1])
    r.provider.features_insync?
    r
  end

  # After a refusal, flush asks the agent nothing and the old file stays.
  def expect_nothing_written(r)
    r.provider.content = r[:content]
    expect(provider_class).not_to receive(:run_agent)
    r.provider.flush
    expect(File.read(path)).to eq("version: 1\n# old\n")
  end

  before(:each) do
    FileUtils.mkdir_p(File.dirname(path))
    File.write(path, "version: 1\n# old\n")
    File.write(admin, "version: 1\n")
  end

  it 'shows the features its new content would change, per interface, from one check of the scope' do
    r = resource
    calls = agent_answers([report('<stdin>:8:7', change: true), '', 1], [report('<stdin>:8:7', change: true), '', 1])
    expect(r.provider.features_insync?).to be false
    expect(r.provider.changes_to_s(:from)).to eq('{veth1: rx-gro => off}')
    expect(r.provider.changes_to_s(:to)).to eq('{veth1: rx-gro => on}')
    expect(calls[0]).to eq(netns: 'blue', args: ['check', '--json', '-', admin], stdin: "version: 1\n# new\n")
    expect(File.read(path)).to eq("version: 1\n# old\n") # judged, not written
  end

  it 'refuses unreachable rules and leaves the previous file' do
    r = resource
    err = "<stdin>:8:7: cannot set 'lro' on 'veth1' to on: the feature is fixed off by the driver"
    agent_answers([report('<stdin>:8:7', errors: [err]), '', 1], [report('<stdin>:8:7', errors: [err]), '', 1])
    expect { r.provider.features_insync? }.to raise_error(Puppet::Error, %r{#{path}:8:7: cannot set 'lro'.*#{path} is left as it was})
    expect_nothing_written(r)
  end

  it 'fails, naming the later file that decides a feature, and writes nothing' do
    r = resource
    agent_answers([report("#{admin}:4:16"), '', 0], [report('<stdin>:8:7', change: true), '', 1])
    expect(r.provider).not_to receive(:warning)
    expect { r.provider.features_insync? }.to raise_error(Puppet::Error) { |e|
      expect(e.message).to match(%r{rx-gro on 'veth1' in netns 'blue' is decided by #{admin}:4:16, a later file of its scope, not by #{path}})
      expect(e.message).to include("remove or change that file, or drop the feature from #{path}; #{path} is left as it was")
    }
    expect_nothing_written(r)
  end

  it 'leaves a feature to a later file another resource of the catalog owns, with a notice' do
    catalog = Puppet::Resource::Catalog.new
    r = resource
    nic = Puppet::Type.type(:nic_offload).new(title: 'blue/veth1', config_dir: confdir, features: { 'gro' => 'off' }, provider: :offloadctl)
    [r, nic].each { |x| catalog.add_resource(x) }
    theirs = nic.dropin_path
    allow(provider_class).to receive(:run_agent) do |netns, args, stdin: nil|
      next real_agent(netns, args) if args.first == '--config-dir' # the scope's files
      next ['', '', 0] if args.first == 'validate'
      # the whole scope (the nic_offload's drop-in pending, in a copy), then the file alone
      copy = args.find { |a| a.end_with?(File.basename(theirs)) }
      copy ? [report("#{copy}:9:16"), '', 0] : [report('<stdin>:8:7'), '', 0]
    end
    expect(r.provider).not_to receive(:warning)
    expect(r.provider).to receive(:notice).with(%r{rx-gro on 'veth1' in netns 'blue' is decided by #{theirs}:9:16, the file of Nic_offload\[blue/veth1\], a later file of its scope that refines #{path}})
    expect(r.provider.features_insync?).to be true
    expect(r.provider.refused?).to be false
  end

  it 'leaves a file that does not start with its mark alone' do
    File.write(path, "version: 1\n# an admin's\n")
    r = Puppet::Type.type(:offloadctl_rules).new(path: path, netns: 'blue', config_dir: confdir, content: "# Managed by Puppet\n{}\n",
                                                 mark: '# Managed by Puppet', apply: false, provider: :offloadctl)
    expect(provider_class).not_to receive(:run_agent)
    expect(r.provider).to receive(:notice).with(%r{does not start with '# Managed by Puppet': not written by Puppet, left as it is}).once
    expect(r.property(:content).insync?(r.provider.content)).to be true
    r.provider.content = r[:content]
    r.provider.flush
    expect(File.read(path)).to eq("version: 1\n# an admin's\n")
  end

  it 'validates and writes the file, then applies the scope on the interfaces it changes' do
    r = judged_out_of_sync
    calls = agent_answers(['', '', 0], ['{"changed":true,"errors":[],"warnings":[],"interfaces":{}}', '', 0])
    r.provider.content = r[:content]
    r.provider.features = 'in sync'
    r.provider.flush
    expect(calls.map { |c| c[:args] }).to eq([['validate', '--kernel', '-'], ['apply', '--json', '--ifname', 'veth1', '-', admin]])
    expect(File.read(path)).to eq("version: 1\n# new\n")
  end

  it 'puts the previous file back when apply fails' do
    r = judged_out_of_sync
    agent_answers(['', '', 0], ['{"rolled_back":true,"errors":["kernel kept it"]}', '', 1], ['', '', 0])
    r.provider.content = r[:content]
    r.provider.features = 'in sync'
    expect { r.provider.flush }.to raise_error(Puppet::Error, %r{failed \(exit 1\) \(rolled back\): kernel kept it; #{path} is put back})
    expect(File.read(path)).to eq("version: 1\n# old\n")
  end
end
