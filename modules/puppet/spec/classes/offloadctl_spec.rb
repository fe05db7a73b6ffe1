# frozen_string_literal: true

require 'spec_helper'

describe 'offloadctl' do
  context 'with the defaults (Hiera data)' do
    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_class('offloadctl::install').that_comes_before('Class[offloadctl::config]') }
    it { is_expected.to contain_class('offloadctl::config').that_comes_before('Class[offloadctl::service]') }
    it { is_expected.to contain_file('/etc/offloadctl').with_ensure('directory') }
    it { is_expected.to contain_file('/etc/offloadctl/conf.d').with_ensure('directory') }
    it { is_expected.to contain_file('/etc/offloadctl/fact.conf').with_content(%r{^mode=summary$}) }
    # nothing installed, no rules written or applied, no unit touched
    it { is_expected.not_to contain_package('offloadctl') }
    it { is_expected.not_to contain_file('/etc/offloadctl/offloadctl.yaml') }
    it { is_expected.to have_offloadctl_rules_resource_count(0) }
    it { is_expected.to have_service_resource_count(0) }
    it { is_expected.to have_exec_resource_count(0) }
  end

  context 'with rules' do
    let(:params) do
      { rules: { 'interfaces' => [{ 'match' => { 'module' => 'xen_netfront' }, 'features' => { 'tx' => 'off' } }] } }
    end

    it { is_expected.to compile.with_all_deps }
    it do
      is_expected.to contain_offloadctl_rules('/etc/offloadctl/offloadctl.yaml')
        .with(netns: nil, config_dir: '/etc/offloadctl', apply: true)
        .with_content(%r{\A# Managed by Puppet \(class offloadctl\)})
        .with_content(%r{^  "version": 1,$})
        .with_content(%r{^\s+"module": "xen_netfront"$})
        .with_content(%r{^\s+"tx": "off"$})
    end
    # written and applied by the resource itself, judged by the whole scope
    it { is_expected.to have_exec_resource_count(0) }
    it { is_expected.not_to contain_file('/etc/offloadctl/offloadctl.yaml') }

    context 'in a network namespace, apply off' do
      let(:params) { super().merge(netns: 'blue', apply: false) }

      # the namespace's scope, never the host's offloadctl.yaml
      it do
        is_expected.to contain_offloadctl_rules('/etc/offloadctl/netns/blue/40-puppet-offloadctl.yaml')
          .with(netns: 'blue', apply: false)
      end
      it { is_expected.to contain_file('/etc/offloadctl/netns/blue').with_ensure('directory') }
      it { is_expected.not_to contain_offloadctl_rules('/etc/offloadctl/offloadctl.yaml') }
    end

    context 'in a network namespace, with a nic_offload there' do
      let(:params) { super().merge(netns: 'blue') }
      let(:pre_condition) { "nic_offload { 'blue/veth0': features => { 'gro' => 'on' } }" }

      # no ordering between owners of one scope is needed (each judges the
      # scope with what the others leave in it), so none can make a cycle
      # with the user's own `require => Class['offloadctl']`
      it { is_expected.to compile.with_all_deps }
      it { is_expected.to contain_offloadctl_rules('/etc/offloadctl/netns/blue/40-puppet-offloadctl.yaml').without_require }
      it { is_expected.to contain_nic_offload('blue/veth0') }
    end

    context 'in a network namespace given by path' do
      let(:params) { super().merge(netns: '/proc/1/ns/net') }

      it { is_expected.to compile.and_raise_error(%r{is a path}) }
    end
  end

  context 'with a rule that is not a desired state' do
    let(:params) { { rules: { 'interfaces' => [{ 'match' => { 'colour' => 'red' }, 'features' => { 'tx' => 'off' } }] } } }

    it { is_expected.to compile.and_raise_error(%r{rules}) }
  end

  context 'with words only the agent knows' do
    # a feature the module has never heard of, a word for a value: the
    # agent judges them when the rules are checked, not the catalog
    let(:params) { { rules: { 'interfaces' => [{ 'features' => { 'some-newer-feature' => 'yes', 'tx' => false } }] } } }

    it { is_expected.to compile.with_all_deps }
    it do
      is_expected.to contain_offloadctl_rules('/etc/offloadctl/offloadctl.yaml')
        .with_content(%r{^\s+"some-newer-feature": "yes",$}).with_content(%r{^\s+"tx": false$})
    end
  end

  context 'ensure => absent' do
    let(:params) do
      { ensure: 'absent', manage_package: true, service: 'watch', metrics: true,
        rules: { 'interfaces' => [{ 'features' => { 'tx' => 'off' } }] } }
    end

    it { is_expected.to compile.with_all_deps }
    # the class's own files, nothing else
    it { is_expected.to contain_file('/etc/offloadctl/fact.conf').with_ensure('absent') }
    it { is_expected.to contain_file('/etc/offloadctl/conf.d/40-puppet-advice.yaml').with_ensure('absent') }
    it do
      is_expected.to contain_offloadctl_rules('/etc/offloadctl/offloadctl.yaml')
        .with(apply: false, mark: '# Managed by Puppet (class offloadctl)')
        .with_content(%r{ensure => absent: the class's rules are gone}).with_content(%r{"interfaces": \[\]})
    end
    # the directories, the package and the units are the host's
    it { is_expected.not_to contain_file('/etc/offloadctl') }
    it { is_expected.not_to contain_file('/etc/offloadctl/conf.d') }
    it { is_expected.not_to contain_package('offloadctl') }
    it { is_expected.to have_service_resource_count(0) }
    it { is_expected.to have_exec_resource_count(0) }

    context 'where systemd is not the service manager' do
      let(:facts) { { 'service_provider' => 'debian' } }

      # nothing to start, so nothing to refuse
      it { is_expected.to compile.with_all_deps }
    end

    context 'in a network namespace' do
      let(:params) { super().merge(netns: 'blue') }

      it { is_expected.to contain_file('/etc/offloadctl/netns/blue/40-puppet-offloadctl.yaml').with_ensure('absent') }
      it { is_expected.to contain_file('/etc/offloadctl/netns/blue/40-puppet-advice.yaml').with_ensure('absent') }
      it { is_expected.to have_offloadctl_rules_resource_count(0) }
      it { is_expected.not_to contain_file('/etc/offloadctl/netns/blue') }
    end
  end

  context 'installing the package' do
    let(:params) { { manage_package: true } }

    it { is_expected.to contain_package('offloadctl').with_ensure('installed').with_name('offloadctl') }
    it { is_expected.to contain_package('offloadctl').without_provider }

    context 'from a local .deb' do
      let(:params) { super().merge(package_source: '/var/cache/offloadctl/offloadctl_0.1.0_amd64.deb') }

      it do
        is_expected.to contain_package('offloadctl')
          .with_provider('dpkg').with_source('/var/cache/offloadctl/offloadctl_0.1.0_amd64.deb')
      end
    end

    context 'from a relative path' do
      let(:params) { super().merge(package_source: 'offloadctl.deb') }

      it { is_expected.to compile.and_raise_error(%r{package_source}) }
    end
  end

  context "service => 'watch'" do
    let(:params) { { service: 'watch' } }

    it { is_expected.to contain_service('offloadctl-watch').with(ensure: 'running', enable: true, provider: 'systemd') }
    it { is_expected.to contain_service('offloadctl-boot').with(enable: false, provider: 'systemd').without_ensure }

    context 'where systemd is not the service manager' do
      let(:facts) { { 'service_provider' => 'debian' } }

      it { is_expected.to compile.and_raise_error(%r{systemd is not the running service manager here .*'debian'}) }
    end
  end

  context "service => 'boot'" do
    let(:params) { { service: 'boot' } }

    it { is_expected.to contain_service('offloadctl-boot').with(enable: true, provider: 'systemd').without_ensure }
    it { is_expected.to contain_service('offloadctl-watch').with(ensure: 'stopped', enable: false, provider: 'systemd') }

    context 'where systemd is not the service manager' do
      let(:facts) { { 'service_provider' => 'debian' } }

      it { is_expected.to have_service_resource_count(0) }
      it do
        is_expected.to contain_exec('systemctl enable offloadctl-boot.service')
          .with_unless('systemctl is-enabled offloadctl-boot.service')
      end
      it do
        is_expected.to contain_exec('systemctl disable offloadctl-watch.service')
          .with_onlyif('systemctl is-enabled offloadctl-watch.service')
      end
    end
  end

  context "service => 'sometimes'" do
    let(:params) { { service: 'sometimes' } }

    it { is_expected.to compile.and_raise_error(%r{service}) }
  end

  context 'metrics => true' do
    let(:params) { { metrics: true } }

    it { is_expected.to contain_service('offloadctl-metrics.timer').with(ensure: 'running', enable: true, provider: 'systemd') }
  end

  context "fact => 'full', another config_dir" do
    let(:params) { { fact: 'full', config_dir: '/srv/offloadctl' } }

    it { is_expected.to contain_file('/srv/offloadctl/fact.conf').with_content(%r{^mode=full$}) }
    it { is_expected.not_to contain_file('/etc/offloadctl/fact.conf') }
  end

  context 'the private classes' do
    let(:pre_condition) { 'include offloadctl::install' }

    it { is_expected.to compile.and_raise_error(%r{private}) }
  end
end
