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
    it { is_expected.not_to contain_exec('offloadctl apply') }
    it { is_expected.to have_service_resource_count(0) }
  end

  context 'with rules' do
    let(:params) do
      { rules: { 'interfaces' => [{ 'match' => { 'module' => 'xen_netfront' }, 'features' => { 'tx' => 'off' } }] } }
    end

    it { is_expected.to compile.with_all_deps }
    it do
      is_expected.to contain_file('/etc/offloadctl/offloadctl.yaml')
        .with_validate_cmd('offloadctl validate --kernel %')
        .with_content(%r{^version: 1$})
        .with_content(%r{^      module: "xen_netfront"$})
        .with_content(%r{^      tx: off$})
    end
    it do
      is_expected.to contain_exec('offloadctl apply')
        .with_command('offloadctl --config-dir /etc/offloadctl apply')
        .with_unless('offloadctl --config-dir /etc/offloadctl -q check')
        .that_requires('File[/etc/offloadctl/offloadctl.yaml]')
    end

    context 'in a network namespace, apply off' do
      let(:params) { super().merge(netns: 'blue', apply: false) }

      # the namespace's scope, never the host's offloadctl.yaml
      it { is_expected.to contain_file('/etc/offloadctl/netns/blue/50-puppet-offloadctl.yaml').with_validate_cmd('offloadctl validate --kernel %') }
      it { is_expected.to contain_file('/etc/offloadctl/netns/blue').with_ensure('directory') }
      it { is_expected.not_to contain_file('/etc/offloadctl/offloadctl.yaml') }
      it { is_expected.not_to contain_exec('offloadctl apply') }
    end

    context 'in a network namespace' do
      let(:params) { super().merge(netns: 'blue') }

      it do
        is_expected.to contain_exec('offloadctl apply')
          .with_command('offloadctl --netns blue --config-dir /etc/offloadctl apply')
          .that_requires('File[/etc/offloadctl/netns/blue/50-puppet-offloadctl.yaml]')
      end
    end

    context 'in a network namespace given by path' do
      let(:params) { super().merge(netns: '/proc/1/ns/net') }

      it { is_expected.to compile.and_raise_error(%r{is a path}) }
    end
  end

  context 'with a rule that is not a desired state' do
    let(:params) { { rules: { 'interfaces' => [{ 'features' => { 'tx' => 'sideways' } }] } } }

    it { is_expected.to compile.and_raise_error(%r{rules}) }
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

    it { is_expected.to contain_service('offloadctl-watch').with(ensure: 'running', enable: true) }
    it { is_expected.to contain_service('offloadctl-boot').with_enable(false).without_ensure }
  end

  context "service => 'boot'" do
    let(:params) { { service: 'boot' } }

    it { is_expected.to contain_service('offloadctl-boot').with_enable(true).without_ensure }
    it { is_expected.to contain_service('offloadctl-watch').with(ensure: 'stopped', enable: false) }
  end

  context "service => 'sometimes'" do
    let(:params) { { service: 'sometimes' } }

    it { is_expected.to compile.and_raise_error(%r{service}) }
  end

  context 'metrics => true' do
    let(:params) { { metrics: true } }

    it { is_expected.to contain_service('offloadctl-metrics.timer').with(ensure: 'running', enable: true) }
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
