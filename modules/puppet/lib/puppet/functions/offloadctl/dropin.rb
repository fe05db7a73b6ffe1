# frozen_string_literal: true

require_relative '../../../puppet_x/offloadctl/desired_state'

# @summary
#   Renders an offloadctl desired state (a hash shaped like
#   offloadctl.yaml(5)) as the text of a file of its configuration: JSON,
#   which is YAML, after comment lines.
#
# Names and values are written as they are given (a Boolean stays a JSON
# boolean): the agent judges them when the file is checked, and its
# messages name the line. Puppet 7 has no JSON function of its own and this
# module depends on no other module.
Puppet::Functions.create_function(:'offloadctl::dropin') do
  # @param document The desired state; `version: 1` is added when missing.
  # @param header Comment lines to put first.
  # @return [String] The file's text.
  # @example
  #   offloadctl::dropin({ 'interfaces' => [{ 'match' => { 'name' => 'eth*' }, 'features' => { 'tx' => 'off' } }] })
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
