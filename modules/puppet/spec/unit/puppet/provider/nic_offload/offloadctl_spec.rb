# frozen_string_literal: true

require 'spec_helper'

# The provider with the agent stubbed at its one door, run_agent: what it
# asks the agent, and what it makes of each answer.
describe Puppet::Type.type(:nic_offload).provider(:offloadctl) do
  let(:provider_class) { described_class }
  let(:confdir) { Dir.mktmpdir('offloadctl-provider-') }
  after(:each) { FileUtils.rm_rf(confdir) }

  def feat(active, fixed: false)
    { 'active' => active, 'requested' => active, 'fixed' => fixed }
  end

  let(:eth0) do
    {
      'kind' => 'veth', 'driver' => 'veth', 'operstate' => 'up',
      'offloads' => { 'tx-checksumming' => { 'active' => true }, 'generic-receive-offload' => { 'active' => false, 'fixed' => false, 'requested' => false } },
      'features' => {
        'tx-checksum-ip-generic' => feat(true), 'tx-checksum-sctp' => feat(true),
        'rx-gro' => feat(false), 'rx-lro' => feat(false, fixed: true)
      }
    }
  end
  let(:facts_doc) { { 'schema' => 1, 'interfaces' => { 'eth0' => eth0, 'lo' => eth0.merge('kind' => nil) } } }

  def resource(params = {})
    Puppet::Type.type(:nic_offload).new({ name: 'eth0', provider: :offloadctl, config_dir: confdir,
                                          features: { 'tx' => 'off' } }.merge(params))
  end

  # A resource of eth0 in the host scope, prefetched from facts_doc.
  let(:res) do
    agent_answers([facts_doc.to_json, '', 0])
    r = resource
    provider_class.prefetch('eth0' => r)
    r
  end
  let(:dropin) { File.join(confdir, 'conf.d', '50-puppet-nic_offload-eth0.yaml') }

  describe '.facts_document' do
    it 'runs `offloadctl facts --format json` once and parses it' do
      calls = agent_answers([facts_doc.to_json, '', 0])
      expect(provider_class.facts_document('blue')['interfaces'].keys).to eq(['eth0', 'lo'])
      expect(calls).to eq([{ netns: 'blue', args: ['facts', '--format', 'json'], stdin: nil }])
    end

    it 'fails with the namespace and the exit status when the agent fails' do
      agent_answers(['', "offloadctl: namespace 'blue' not found\n", 3])
      expect { provider_class.facts_document('blue') }.to raise_error(Puppet::Error, %r{in netns 'blue' failed \(exit 3\): offloadctl: namespace})
    end

    it 'fails when the agent prints something that is not JSON' do
      agent_answers(['{', '', 0])
      expect { provider_class.facts_document(nil) }.to raise_error(Puppet::Error, %r{not JSON})
    end
  end

  describe '.instances' do
    it "lists every interface's summary lines and the kernel features none of them stands for, as the agent says" do
      # what the agent decides for a rule naming every summary line
      covered = { 'eth0' => { 'decided' => { 'tx-checksum-ip-generic' => { 'value' => 'on', 'by' => '<stdin>:20:30' },
                                             'rx-gro' => { 'value' => 'on', 'by' => '<stdin>:19:36' } } } }
      calls = agent_answers([facts_doc.to_json, '', 0], [{ 'interfaces' => covered, 'errors' => [] }.to_json, '', 1])
      all = provider_class.instances
      expect(all.map(&:name)).to eq(['eth0', 'lo'])
      expect(all.first.exists?).to be true
      listing = all.first.features
      expect(listing).to eq('tx-checksumming' => 'on', 'generic-receive-offload' => 'off', 'tx-checksum-sctp' => 'on')
      expect(listing).not_to have_key('rx-lro') # fixed: nothing to manage
      # one check for every interface, a rule naming the lines the facts have
      expect(calls[1][:args]).to eq(['-q', 'check', '--json', '-'])
      asked = JSON.parse(calls[1][:stdin].lines.reject { |l| l.start_with?('#') }.join)
      expect(asked['interfaces'].first['features'].keys).to eq(['generic-receive-offload', 'tx-checksumming'])
    end

    it 'fails with the agent\'s words when that check fails' do
      agent_answers([facts_doc.to_json, '', 0], ['', "offloadctl: not permitted\n", 3])
      expect { provider_class.instances }.to raise_error(Puppet::Error, %r{check failed \(exit 3\): offloadctl: not permitted})
    end
  end

  describe '.prefetch' do
    it 'asks once per namespace and finds absent interfaces' do
      calls = agent_answers([facts_doc.to_json, '', 0], [{ 'interfaces' => {} }.to_json, '', 0])
      here = resource
      there = resource(name: 'eth9', netns: 'blue')
      lo = resource(name: 'lo')
      provider_class.prefetch('eth0' => here, 'eth9' => there, 'lo' => lo)
      expect(calls.map { |c| c[:netns] }).to contain_exactly(nil, 'blue')
      expect(here.provider.exists?).to be true
      expect(lo.provider.exists?).to be true
      expect(there.provider.exists?).to be false
      expect(there.provider.interface_missing?).to be true
    end
  end

  describe 'features_insync?' do
    # A check report on eth0: decided is feature => file:line:col, changes
    # the features that differ from the kernel.
    def report(decided, changes = [], errors = [])
      { 'changed' => !changes.empty?, 'errors' => errors, 'warnings' => [],
        'interfaces' => { 'eth0' => { 'decided' => decided.transform_values { |by| { 'value' => 'off', 'by' => by } },
                                      'changes' => changes.map { |f| { 'feature' => f, 'from' => 'on', 'to' => 'off' } } } } }.to_json
    end

    it "is the agent's `check` of the whole scope, with the drop-in as it would be written on stdin" do
      res
      FileUtils.mkdir_p(File.join(confdir, 'conf.d'))
      File.write(File.join(confdir, 'offloadctl.yaml'), "version: 1\n")
      File.write(File.join(confdir, 'conf.d', '60-admin.yaml'), "version: 1\n")
      File.write(File.join(confdir, 'conf.d', '.60-editor.yaml.swp'), '')
      calls = agent_answers([report('tx-checksum-ip-generic' => '<stdin>:9:11'), '', 0],
                            [report('tx-checksum-ip-generic' => '<stdin>:9:11'), '', 0])
      expect(res.provider.features_insync?('tx' => 'off')).to be true
      # the scope in the agent's order, the drop-in's place taken by stdin
      expect(calls[0][:args]).to eq(['check', '--json', '--ifname', 'eth0', File.join(confdir, 'offloadctl.yaml'), '-',
                                     File.join(confdir, 'conf.d', '60-admin.yaml')])
      expect(calls[1][:args]).to eq(['check', '--json', '--ifname', 'eth0', '-'])
      expect(calls[0][:stdin]).to include('Managed by Puppet: Nic_offload[eth0]').and match(%r{^\s+"tx": "off"$})
    end

    it 'is out of sync when a feature the drop-in decides differs' do
      res
      agent_answers([report({ 'tx-checksum-ip-generic' => '<stdin>:9:11' }, ['tx-checksum-ip-generic']), '', 1],
                    [report({ 'tx-checksum-ip-generic' => '<stdin>:9:11' }, ['tx-checksum-ip-generic']), '', 1])
      expect(res.provider.features_insync?('tx' => 'off')).to be false
      expect(res.provider.refused?).to be false
    end

    it 'fails, naming the later file that decides a feature and what to do, and changes nothing' do
      res
      FileUtils.mkdir_p(File.join(confdir, 'conf.d'))
      admin = File.join(confdir, 'conf.d', '60-admin.yaml')
      File.write(admin, "version: 1\n")
      agent_answers([report({ 'tx-checksum-ip-generic' => "#{admin}:4:16" }, ['tx-checksum-ip-generic']), '', 1],
                    [report('tx-checksum-ip-generic' => '<stdin>:9:11'), '', 1])
      expect(res.provider).not_to receive(:warning)
      expect { res.provider.features_insync?('tx' => 'off') }.to raise_error(Puppet::Error) { |e|
        expect(e.message).to match(%r{tx-checksum-ip-generic on 'eth0' is decided by #{admin}:4:16, a later file of its scope, not by this resource})
        expect(e.message).to include('remove or change that file, or drop the feature from this resource')
      }
      expect(res.provider.refused?).to be true
      # refused: flush writes and applies nothing
      res.provider.features = { 'tx' => 'off' }
      expect(res.provider).not_to receive(:write_dropin)
      expect(res.provider).not_to receive(:apply)
      res.provider.flush
      expect(File.exist?(dropin)).to be false
    end

    it "fails with the agent's words, the drop-in named, when the kernel cannot hold it" do
      res
      err = "<stdin>:9:11: cannot set 'lro' on 'eth0' to on: the feature is fixed off"
      agent_answers([report({}, [], [err]), '', 1], [report({}, [], [err]), '', 1])
      expect { res.provider.features_insync?('lro' => 'on') }.to raise_error(Puppet::Error, %r{#{dropin}:9:11: cannot set 'lro'})
      expect(res.provider.refused?).to be true
    end

    it 'fails with stderr on an environment error' do
      res
      agent_answers(['', "offloadctl: not permitted\n", 3])
      expect { res.provider.features_insync?('tx' => 'off') }.to raise_error(Puppet::Error, %r{failed \(exit 3\): offloadctl: not permitted})
    end

    it "judges with what another owner of the catalog writes in this run, in a copy, by that file's name" do
      catalog = Puppet::Resource::Catalog.new
      mine = resource
      later = Puppet::Type.type(:offloadctl_rules).new(path: File.join(confdir, 'conf.d', '60-puppet.yaml'), config_dir: confdir,
                                                       content: "version: 1\n")
      [mine, later].each { |r| catalog.add_resource(r) }
      agent_answers([facts_doc.to_json, '', 0])
      provider_class.prefetch('eth0' => mine)
      seen = nil
      calls = []
      allow(provider_class).to receive(:run_agent) do |netns, args, stdin: nil|
        next real_agent(netns, args) if args.first == '--config-dir' # the scope's files
        calls << args
        next ['', '', 0] if args.first == 'validate' # the pending content is valid
        seen ||= File.read(args.last)
        [report({ 'tx-checksum-ip-generic' => "#{args.last}:4:16" }), '', 0]
      end
      expect { mine.provider.features_insync?('tx' => 'off') }.to raise_error(Puppet::Error, %r{decided by #{later[:path]}:4:16})
      expect(seen).to eq("version: 1\n")
      expect(calls.first).to eq(['validate', '--kernel', '-'])
      expect(calls[1][-2]).to eq('-')
      expect(File.exist?(later[:path])).to be false
    end
  end

  describe 'features, the current value' do
    # The drop-in as written: which line each name is on is where the
    # agent's positions point.
    def line_of(name, features)
      text = provider_class.dropin_content(res, features)
      text.lines.index { |l| l.include?(%("#{name}":)) } + 1
    end

    it "is, for each name, the state of what the agent decides by that name's line" do
      should = { 'tx' => 'off', 'gro' => 'on', 'rx-gro-hw' => 'on' }
      res[:features] = should
      tx = line_of('tx', should)
      gro = line_of('gro', should)
      alone = { 'interfaces' => { 'eth0' => {
        'decided' => { 'tx-checksum-ip-generic' => { 'value' => 'off', 'by' => "<stdin>:#{tx}:13" },
                       'tx-checksum-sctp' => { 'value' => 'off', 'by' => "<stdin>:#{tx}:13" },
                       'rx-gro' => { 'value' => 'on', 'by' => "<stdin>:#{gro}:14" } },
        # tx-checksum-ip-generic is on now, tx-checksum-sctp off already
        'changes' => [{ 'feature' => 'tx-checksum-ip-generic', 'from' => 'on', 'to' => 'off' }]
      } }, 'errors' => [] }.to_json
      agent_answers([alone, '', 1], [alone, '', 1])
      expect(res.provider.features).to eq('tx' => 'mixed', 'gro' => 'on', 'rx-gro-hw' => nil)
      expect(res.property(:features).is_to_s(res.provider.features)).to eq('{gro => on, rx-gro-hw => absent, tx => mixed}')
    end

    it 'is nil for an interface that is not there' do
      agent_answers([{ 'interfaces' => {} }.to_json, '', 0])
      r = resource
      provider_class.prefetch('eth0' => r)
      expect(provider_class).not_to receive(:run_agent)
      expect(r.provider.features).to be_nil
    end
  end

  describe 'flush' do
    it 'validates and writes the drop-in, then applies once' do
      res
      calls = agent_answers(['', '', 0], ['{"changed":true,"errors":[],"warnings":[],"interfaces":{}}', '', 0])
      res.provider.features = { 'tx' => 'off' }
      res.provider.persist = :true
      res.provider.flush
      expect(calls.map { |c| c[:args] }).to eq([['validate', '--kernel', '-'], ['apply', '--json', '--ifname', 'eth0', '-']])
      expect(File.read(dropin)).to include('Managed by Puppet: Nic_offload[eth0]')
      expect(File.read(dropin)).to match(%r{^\s+"tx": "off"$})
      expect(JSON.parse(File.read(dropin).lines.reject { |l| l.start_with?('#') }.join)['interfaces'])
        .to eq([{ 'match' => { 'name' => 'eth0' }, 'features' => { 'tx' => 'off' } }])
      expect(Dir.children(File.dirname(dropin))).to eq([File.basename(dropin)]) # no temporary file
    end

    it 'puts the previous drop-in back when apply fails' do
      res
      FileUtils.mkdir_p(File.dirname(dropin))
      File.write(dropin, "# before\nversion: 1\ninterfaces: []\n")
      agent_answers(['', '', 0], ['{"rolled_back":true,"errors":["kernel kept it"]}', '', 1], ['', '', 0])
      res.provider.features = { 'tx' => 'off' }
      expect { res.provider.flush }.to raise_error(Puppet::Error, %r{apply failed on 'eth0' \(exit 1\) \(rolled back\): kernel kept it})
      expect(File.read(dropin)).to eq("# before\nversion: 1\ninterfaces: []\n")
    end

    it 'does nothing when check refused the features' do
      res
      agent_answers(['{"errors":["<stdin>:9:11: fixed"]}', '', 1], ['{"errors":["<stdin>:9:11: fixed"]}', '', 1])
      expect { res.provider.features_insync?('lro' => 'on') }.to raise_error(Puppet::Error)
      res.provider.features = { 'lro' => 'on' }
      expect(provider_class).not_to receive(:run_agent)
      res.provider.flush
      expect(File.exist?(dropin)).to be false
    end
  end

  it 'removes only its drop-in on destroy' do
    other = File.join(confdir, 'conf.d', '10-admin.yaml')
    FileUtils.mkdir_p(File.dirname(other))
    File.write(other, "version: 1\n")
    mine = File.join(confdir, 'conf.d', '50-puppet-nic_offload-eth0.yaml')
    File.write(mine, "version: 1\n")
    r = resource(ensure: :absent)
    r.provider.destroy
    expect(File.exist?(mine)).to be false
    expect(File.exist?(other)).to be true
  end
end
