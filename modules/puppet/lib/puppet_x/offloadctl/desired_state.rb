# frozen_string_literal: true

require 'json'

# The text of the files the module writes into an offloadctl scope. The
# module keeps no vocabulary of its own (feature names, their expansion,
# on/off words): names and values go to the agent as they were given, and
# the agent says what they stand for (CONTRACT.md, issue 14).
module PuppetX
  module Offloadctl
    # A desired state (offloadctl.yaml(5)) written as JSON, which is YAML:
    # the agent's YAML parser reads it, and one key a line makes each of the
    # agent's file:line:column positions name one key.
    module DesiredState
      # A desired state for one interface: the drop-in of a nic_offload
      # resource and the document its provider applies. settings: group
      # (rings, channels, coalesce, pause, eee) => its parameters, as given.
      def self.for_interface(iface, features, header = nil, settings = nil)
        rule = { 'match' => { 'name' => iface } }
        rule['features'] = features if features
        (settings || {}).each { |group, params| rule[group] = params }
        render({ 'version' => 1, 'interfaces' => [rule] }, header)
      end

      # The text of a document (a Hash), each line of header as a comment
      # first (a YAML comment: the agent reads the rest as JSON).
      def self.render(doc, header = nil)
        out = +''
        header.to_s.each_line { |l| out << "# #{l.chomp}".rstrip << "\n" } if header
        # An empty list or map on one line, as every JSON generator but
        # some of Ruby's writes it (no string holds a raw line break).
        out << JSON.pretty_generate(doc).gsub(%r{\[\s*\n\s*\]}, '[]').gsub(%r{\{\s*\n\s*\}}, '{}') << "\n"
      end

      # line number => feature name, for the keys of every `features` map
      # in text as render wrote it: where the agent's `decided.by` positions
      # point, so that what the agent decided for a kernel feature is said
      # by the name the resource gave.
      def self.feature_lines(text)
        lines = {}
        inside = false
        text.each_line.with_index(1) do |line, n|
          if line =~ %r{\A\s*"features": \{\s*\z}
            inside = true
          elsif inside && line =~ %r{\A\s*\}}
            inside = false
          elsif inside && (m = line.match(%r{\A\s*("(?:[^"\\]|\\.)*"):}))
            lines[n] = JSON.parse("[#{m[1]}]").first
          end
        end
        lines
      end
    end
  end
end
