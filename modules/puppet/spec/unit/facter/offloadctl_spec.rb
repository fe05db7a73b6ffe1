# frozen_string_literal: true

require 'spec_helper'
require 'facter'
require 'open3'

# The external fact facts.d/offloadctl, as facter (in this process) and
# Puppet see it, with a stand-in agent on OFFLOADCTL_PATH, or the real agent
# named by $OFFLOADCTL (make check sets it).
describe 'external fact offloadctl' do
  let(:factdir) { File.join(MODULE_ROOT, 'facts.d') }
  let(:bindir) { Dir.mktmpdir('offloadctl-fact-') }
  after(:each) do
    FileUtils.rm_rf(bindir)
    ENV.delete('OFFLOADCTL_PATH')
    ENV.delete('OFFLOADCTL_FACT_CONF')
    Facter.reset
  end

  def stand_in(script)
    path = File.join(bindir, 'offloadctl')
    File.write(path, "#!/bin/sh\n#{script}\n")
    File.chmod(0o755, path)
    ENV['OFFLOADCTL_PATH'] = bindir
  end

  def fact_value
    Facter.clear
    Facter.reset
    Facter.search_external([factdir])
    Facter.value('offloadctl')
  end

  def run_fact
    Open3.capture3({ 'OFFLOADCTL_PATH' => ENV['OFFLOADCTL_PATH'] || bindir }, File.join(factdir, 'offloadctl'))
  end

  it "is the agent's document (--format ansible, which facter's wraps), summary by default, as one fact" do
    stand_in(%(echo "$*" > #{bindir}/args; printf '{\n  "schema": 1,\n  "interfaces": {"eth0": {"ifindex": 2}}\n}\n'))
    expect(fact_value).to eq('schema' => 1, 'interfaces' => { 'eth0' => { 'ifindex' => 2 } }, 'netns' => {})
    expect(File.read(File.join(bindir, 'args')).split).to eq(['-q', 'facts', '--format', 'ansible'])
  end

  it 'asks for every feature with mode=full and for nothing with mode=none' do
    conf = File.join(bindir, 'fact.conf')
    ENV['OFFLOADCTL_FACT_CONF'] = conf
    stand_in(%(echo "$*" > #{bindir}/args; echo '{"schema": 1}'))
    File.write(conf, "mode=full\n")
    expect(fact_value).to eq('schema' => 1, 'netns' => {})
    expect(File.read(File.join(bindir, 'args'))).to include('--full')
    File.write(conf, "mode=none\n")
    expect(fact_value).to be_nil
  end

  it 'is absent, and quiet, on a node without the agent' do
    ENV['OFFLOADCTL_PATH'] = bindir # empty: no agent
    out, err, status = run_fact
    expect([out, status.exitstatus]).to eq(["{}\n", 0])
    expect_any_instance_of(Facter::Log).not_to receive(:warn) # rubocop:disable RSpec/AnyInstance
    expect(fact_value).to be_nil
  end

  it 'is absent, with a warning, when the agent fails' do
    stand_in("echo 'offloadctl: broken' >&2; exit 3")
    out, err, status = run_fact
    expect([out, status.exitstatus]).to eq(["{}\n", 0])
    expect(err).to match(%r{'offloadctl facts' failed \(exit 3\)})
  end

  context 'with the real agent ($OFFLOADCTL)', if: ENV['OFFLOADCTL'] do
    before(:each) do
      FileUtils.ln_s(File.expand_path(ENV['OFFLOADCTL']), File.join(bindir, 'offloadctl'))
      ENV['OFFLOADCTL_PATH'] = bindir
    end

    # Puppet turns a JSON null into '', which is truthy: `if $iface['kind']`
    # would take the branch for every interface.  The fact has no null.
    it 'holds no nil and no empty string anywhere' do
      walk = lambda do |v, path|
        case v
        when Hash then v.flat_map { |k, x| walk.call(x, "#{path}.#{k}") }
        when Array then v.each_with_index.flat_map { |x, i| walk.call(x, "#{path}[#{i}]") }
        when nil, '' then [path]
        else []
        end
      end
      value = fact_value
      expect(value['interfaces']).to have_key('lo')
      expect(value['interfaces']['lo']).not_to have_key('kind')
      expect(walk.call(value, 'offloadctl')).to eq([])
    end
  end
end
