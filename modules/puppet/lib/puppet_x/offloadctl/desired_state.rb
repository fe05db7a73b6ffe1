# frozen_string_literal: true

require 'json'

# Helpers shared by the nic_offload type, its provider and the module's
# functions: feature names the way ethtool and offloadctl read them, and the
# YAML of an offloadctl desired state (offloadctl.yaml(5)).
module PuppetX
  module Offloadctl
    # Feature names and values.
    module Names
      # ethtool's legacy flags (ethtool common.c off_flag_def):
      # short name, long name (the `ethtool -k` summary line), kernel pattern.
      LEGACY = [
        ['rx', 'rx-checksumming', 'rx-checksum'],
        ['tx', 'tx-checksumming', 'tx-checksum-*'],
        ['sg', 'scatter-gather', 'tx-scatter-gather*'],
        ['tso', 'tcp-segmentation-offload', 'tx-tcp*-segmentation'],
        ['ufo', 'udp-fragmentation-offload', 'tx-udp-fragmentation'],
        ['gso', 'generic-segmentation-offload', 'tx-generic-segmentation'],
        ['gro', 'generic-receive-offload', 'rx-gro'],
        ['lro', 'large-receive-offload', 'rx-lro'],
        ['rxvlan', 'rx-vlan-offload', 'rx-vlan-hw-parse'],
        ['txvlan', 'tx-vlan-offload', 'tx-vlan-hw-insert'],
        ['ntuple', 'ntuple-filters', 'rx-ntuple-filter'],
        ['rxhash', 'receive-hashing', 'rx-hashing'],
      ].freeze

      # A feature name as a desired state accepts it (the agent decides
      # whether the running kernel knows it).
      NAME_RE = %r{\A[a-z0-9][a-z0-9_-]*\z}.freeze

      ON = ['on', 'true', 'yes'].freeze
      OFF = ['off', 'false', 'no'].freeze

      # 'on' or 'off' for a value offloadctl accepts, nil for anything else.
      def self.switch(value)
        return (value ? 'on' : 'off') if [true, false].include?(value)
        v = value.to_s.downcase
        return 'on' if ON.include?(v)
        return 'off' if OFF.include?(v)
        nil
      end

      # The LEGACY row of a short or long name, or nil.
      def self.legacy(name)
        LEGACY.find { |short, long, _| name == short || name == long }
      end

      # ethtool's flag_pattern_match(): at most one '*'.
      def self.pattern_match?(name, pattern)
        star = pattern.index('*')
        return name == pattern unless star
        head = pattern[0, star]
        tail = pattern[(star + 1)..-1]
        name.length >= head.length + tail.length && name.start_with?(head) && name.end_with?(tail)
      end

      # The kernel features a name stands for on an interface whose
      # `features` map (kernel name => {active, requested, fixed}) is given.
      def self.members(name, features)
        row = legacy(name)
        return features.keys.select { |k| pattern_match?(k, row[2]) }.sort if row
        features.key?(name) ? [name] : []
      end

      # The state of a name on an interface, the way `ethtool -k` summarises
      # it: 'on' when every changeable member is active, 'off' when none is,
      # 'mixed' otherwise; nil when the interface has no such feature.
      def self.state(name, iface)
        features = iface['features'] || {}
        members = members(name, features)
        if members.empty?
          row = legacy(name)
          summary = row && (iface['offloads'] || {})[row[1]]
          return nil unless summary.is_a?(Hash) && !summary['active'].nil?
          return summary['active'] ? 'on' : 'off'
        end
        changeable = members.reject { |m| features[m]['fixed'] }
        members = changeable unless changeable.empty?
        active = members.count { |m| features[m]['active'] }
        return 'on' if active == members.length
        return 'off' if active.zero?
        'mixed'
      end

      # Every offload of an interface, for `puppet resource nic_offload`:
      # ethtool's summary lines by their long names, then the changeable
      # kernel features that no summary stands for.
      def self.listing(iface)
        features = iface['features'] || {}
        out = {}
        LEGACY.each do |_short, long, _pattern|
          v = state(long, iface)
          out[long] = v unless v.nil?
        end
        covered = LEGACY.flat_map { |_s, _l, pattern| features.keys.select { |k| pattern_match?(k, pattern) } }
        features.keys.sort.each do |k|
          next if covered.include?(k) || features[k]['fixed']
          out[k] = features[k]['active'] ? 'on' : 'off'
        end
        out
      end
    end

    # The YAML of a desired state, written by hand so that every file
    # Puppet writes looks the same: plain keys, on/off values, quoted strings.
    module DesiredState
      # A desired state for one interface: the drop-in of a nic_offload
      # resource and the document its provider applies.
      def self.for_interface(iface, features, header = nil)
        doc = {
          'version' => 1,
          'interfaces' => [{ 'match' => { 'name' => iface }, 'features' => features }],
        }
        render(doc, header)
      end

      # YAML for a document (a Hash), each line of header as a comment first.
      def self.render(doc, header = nil)
        out = +''
        header.to_s.each_line { |l| out << "# #{l.chomp}".rstrip << "\n" } if header
        emit_mapping(doc, 0, out, nil, nil)
        out
      end

      def self.scalar(value, parent_key)
        case value
        when true, false, Integer, Float
          (parent_key == 'features') ? Names.switch(value) : value.to_s
        when nil
          'null'
        else
          s = value.to_s
          sw = (parent_key == 'features') ? Names.switch(s) : nil
          sw || JSON.generate(s)
        end
      end

      def self.key(k)
        k = k.to_s
        (k =~ %r{\A[A-Za-z0-9][A-Za-z0-9_.-]*\z}) ? k : JSON.generate(k)
      end

      # ctx: the key this mapping sits under ('features' makes values on/off).
      def self.emit_mapping(hash, indent, out, first_prefix, ctx)
        pad = ' ' * indent
        hash.each_with_index do |(k, v), i|
          lead = (i.zero? && first_prefix) ? first_prefix : pad
          case v
          when Hash
            if v.empty?
              out << "#{lead}#{key(k)}: {}\n"
            else
              out << "#{lead}#{key(k)}:\n"
              emit_mapping(v, indent + 2, out, nil, k.to_s)
            end
          when Array
            if v.empty?
              out << "#{lead}#{key(k)}: []\n"
            elsif v.all? { |e| !e.is_a?(Hash) && !e.is_a?(Array) }
              out << "#{lead}#{key(k)}: [#{v.map { |e| scalar(e, nil) }.join(', ')}]\n"
            else
              out << "#{lead}#{key(k)}:\n"
              v.each do |e|
                raise ArgumentError, "offloadctl: a list under '#{k}' holds a list" unless e.is_a?(Hash)
                emit_mapping(e, indent + 4, out, "#{pad}  - ", k.to_s)
              end
            end
          else
            out << "#{lead}#{key(k)}: #{scalar(v, ctx)}\n"
          end
        end
      end
    end
  end
end
