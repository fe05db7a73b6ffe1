# frozen_string_literal: true

require_relative '../../../puppet_x/offloadctl/desired_state'

# @summary
#   Renders an offloadctl desired state (a hash shaped like
#   offloadctl.yaml(5)) as YAML, feature values as on/off.
#
# Puppet 7 has no YAML function of its own and this module depends on no
# other module; the output is the same style the nic_offload drop-ins use.
Puppet::Functions.create_function(:'offloadctl::to_yaml') do
  # @param document The desired state; `version: 1` is added when missing.
  # @param header Comment lines to put first.
  # @return [String] The YAML text.
  # @example
  #   offloadctl::to_yaml({ 'interfaces' => [{ 'match' => { 'name' => 'eth*' }, 'features' => { 'tx' => false } }] })
  dispatch :render do
    param 'Hash', :document
    optional_param 'String', :header
    return_type 'String'
  end

  def render(document, header = nil)
    doc = { 'version' => 1 }.merge(document)
    PuppetX::Offloadctl::DesiredState.render(doc, header)
  end
end
