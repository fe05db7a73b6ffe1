# frozen_string_literal: true

require 'spec_helper'

describe Puppet::Type.type(:offloadctl_rules) do
  def make(params)
    described_class.new({ content: "version: 1\n" }.merge(params))
  end

  it 'is named by its path and has the documented properties and parameters' do
    expect(described_class.key_attributes).to eq([:path])
    expect(described_class.validproperties).to include(:features, :content)
    [:netns, :config_dir, :apply, :mark].each { |p| expect(described_class.validparameter?(p)).to be true }
  end

  it 'takes the files of the host scope' do
    expect { make(path: '/etc/offloadctl/offloadctl.yaml') }.not_to raise_error
    expect { make(path: '/etc/offloadctl/conf.d/40-puppet-advice.yaml') }.not_to raise_error
  end

  it "takes the files of a namespace's scope, and no other" do
    expect { make(path: '/etc/offloadctl/netns/blue/40-puppet-offloadctl.yaml', netns: 'blue') }.not_to raise_error
    # a namespace's rules never go to the host's set, nor to another namespace
    expect { make(path: '/etc/offloadctl/offloadctl.yaml', netns: 'blue') }.to raise_error(Puppet::ResourceError, %r{not a file of the scope of netns 'blue'})
    expect { make(path: '/etc/offloadctl/netns/red/x.yaml', netns: 'blue') }.to raise_error(Puppet::ResourceError, %r{not a file of the scope})
    expect { make(path: '/etc/offloadctl/netns/blue/x.yaml') }.to raise_error(Puppet::ResourceError, %r{not a file of the scope of the host})
  end

  it 'refuses a path that is no .yaml, and a namespace given by path' do
    expect { make(path: '/etc/offloadctl/conf.d/x.conf') }.to raise_error(Puppet::ResourceError, %r{absolute path to a \.yaml})
    expect { make(path: '/etc/offloadctl/conf.d/x.yaml', netns: '/proc/1/ns/net') }.to raise_error(Puppet::ResourceError, %r{not a network namespace name})
  end

  it 'judges features unless apply is false' do
    expect(make(path: '/etc/offloadctl/offloadctl.yaml')[:features]).to eq('in sync')
    expect(make(path: '/etc/offloadctl/offloadctl.yaml', apply: false)[:features]).to be_nil
  end
end
