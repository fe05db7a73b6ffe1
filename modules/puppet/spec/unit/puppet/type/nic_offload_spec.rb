# frozen_string_literal: true

require 'spec_helper'

describe Puppet::Type.type(:nic_offload) do
  def make(params)
    described_class.new({ name: 'eth0' }.merge(params))
  end

  it 'is named by the interface and its namespace, and has the documented properties and parameters' do
    expect(described_class.key_attributes).to contain_exactly(:name, :netns)
    expect(described_class.validproperties).to include(:ensure, :features, :persist)
    [:netns, :config_dir].each { |p| expect(described_class.validparameter?(p)).to be true }
  end

  describe 'the title' do
    def from_title(title, params = {})
      catalog = Puppet::Resource::Catalog.new
      r = Puppet::Resource.new(:nic_offload, title, parameters: params).to_ral
      catalog.add_resource(r)
      r
    end

    it('is the interface alone') { expect([from_title('veth0')[:name], from_title('veth0')[:netns]]).to eq(['veth0', nil]) }
    it('is NETNS/IFACE') { expect([from_title('blue/veth0')[:name], from_title('blue/veth0')[:netns]]).to eq(['veth0', 'blue']) }
    it('takes a namespace path') { expect(from_title('/proc/42/ns/net/veth0')[:netns]).to eq('/proc/42/ns/net') }

    it 'lets the same interface name live in two namespaces, and not twice in one' do
      catalog = Puppet::Resource::Catalog.new
      catalog.add_resource(described_class.new(title: 'blue/veth0'))
      catalog.add_resource(described_class.new(title: 'red/veth0'))
      catalog.add_resource(described_class.new(title: 'veth0'))
      expect(catalog.resources.map(&:uniqueness_key)).to contain_exactly(['veth0', 'blue'], ['veth0', 'red'], ['veth0', nil])
      expect { catalog.add_resource(described_class.new(title: 'veth0', netns: 'blue')) }.to raise_error(Puppet::Resource::Catalog::DuplicateResourceError)
    end
  end

  describe 'name' do
    ['eth0', 'enX0', 'vif1.0', 'a' * 15].each do |n|
      it("accepts #{n}") { expect { make(name: n) }.not_to raise_error }
    end
    ['a' * 16, 'eth/0', 'eth:0', 'eth 0', '.', '..', ''].each do |n|
      it("refuses #{n.inspect}") { expect { make(name: n) }.to raise_error(Puppet::ResourceError, %r{not a valid interface name}) }
    end
  end

  describe 'features' do
    it 'keeps names and values as given: the agent judges them' do
      r = make(features: { 'tx' => false, 'gro' => 'yes', 'tx-checksum-ipv6' => 'Off', 'some-newer-feature' => 'on' })
      expect(r[:features]).to eq('tx' => false, 'gro' => 'yes', 'tx-checksum-ipv6' => 'Off', 'some-newer-feature' => 'on')
    end

    it 'refuses a value that is neither a Boolean nor a word' do
      [3, nil, '', ' '].each do |v|
        expect { make(features: { 'tx' => v }) }.to raise_error(Puppet::ResourceError, %r{must be on or off, not})
      end
    end

    it 'refuses a name that is no string, or empty' do
      expect { make(features: { '' => 'off' }) }.to raise_error(Puppet::ResourceError, %r{is not a feature name})
      expect { make(features: { 7 => 'off' }) }.to raise_error(Puppet::ResourceError, %r{is not a feature name})
    end

    it 'refuses an empty hash and a non-hash' do
      expect { make(features: {}) }.to raise_error(Puppet::ResourceError, %r{non-empty hash})
      expect { make(features: 'tx=off') }.to raise_error(Puppet::ResourceError, %r{non-empty hash})
    end
  end

  describe 'settings' do
    it 'takes groups of parameters, as given' do
      r = make(settings: { 'rings' => { 'rx' => 512, 'tx' => 'max' }, 'pause' => { 'rx' => true } })
      expect(r[:settings]).to eq('rings' => { 'rx' => 512, 'tx' => 'max' }, 'pause' => { 'rx' => true })
    end

    it 'refuses what is not a map of group to parameters, naming the place' do
      expect { make(settings: {}) }.to raise_error(Puppet::ResourceError, %r{settings must be a non-empty hash of a group name})
      expect { make(settings: { 'rings' => 512 }) }.to raise_error(Puppet::ResourceError, %r{settings 'rings' must be a non-empty hash of a parameter name})
      expect { make(settings: { 'rings' => { 'rx' => nil } }) }.to raise_error(Puppet::ResourceError, %r{settings 'rings' 'rx' must be a number, max, on or off, not nil})
      expect { make(settings: { 'rings' => { '' => 1 } }) }.to raise_error(Puppet::ResourceError, %r{'' in settings 'rings' is not a parameter name})
    end

    it 'says a value as the run shows it, nested maps too' do
      prop = make(settings: { 'rings' => { 'rx' => 512 } }).property(:settings)
      expect(prop.is_to_s('rings' => { 'tx' => 256, 'rx' => nil }, 'eee' => nil)).to eq('{eee => absent, rings => {rx => absent, tx => 256}}')
    end
  end

  describe 'persist' do
    it('defaults to true') { expect(make({})[:persist]).to eq(:true) }
    it('refuses other values') { expect { make(persist: 'maybe') }.to raise_error(Puppet::ResourceError) }
  end

  describe 'config_dir and the drop-in' do
    it 'writes to the host scope by default' do
      expect(make({})[:config_dir]).to eq('/etc/offloadctl')
      expect(make({}).dropin_path).to eq('/etc/offloadctl/conf.d/50-puppet-nic_offload-eth0.yaml')
    end

    it "writes to the namespace's scope with netns" do
      r = make(netns: 'blue')
      expect(r[:config_dir]).to eq('/etc/offloadctl')
      expect(r.dropin_path).to eq('/etc/offloadctl/netns/blue/50-puppet-nic_offload-eth0.yaml')
    end

    it 'has no scope to persist to for a namespace given by path' do
      expect { make(netns: '/proc/42/ns/net').dropin_path }.to raise_error(Puppet::Error, %r{no scope to persist to})
    end

    it 'refuses a relative config_dir and a netns with spaces' do
      expect { make(config_dir: 'etc') }.to raise_error(Puppet::ResourceError, %r{not an absolute path})
      expect { make(netns: 'a b') }.to raise_error(Puppet::ResourceError, %r{not a network namespace})
    end
  end

  it 'autorequires the package and the configuration directories' do
    catalog = Puppet::Resource::Catalog.new
    pkg = Puppet::Type.type(:package).new(name: 'offloadctl')
    dir = Puppet::Type.type(:file).new(name: '/etc/offloadctl/conf.d', ensure: 'directory')
    res = make(features: { 'tx' => 'off' })
    [pkg, dir, res].each { |r| catalog.add_resource(r) }
    sources = res.autorequire.map { |e| e.source.ref }
    expect(sources).to include('Package[offloadctl]', 'File[/etc/offloadctl/conf.d]')
  end
end
