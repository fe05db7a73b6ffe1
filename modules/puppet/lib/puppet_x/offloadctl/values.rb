# frozen_string_literal: true

module PuppetX
  module Offloadctl
    # What nic_offload's properties take and say: maps of name => value, as
    # given (the agent judges the names and the values).
    module Values
      # value must be a non-empty Hash of non-empty String names, each value
      # one that ok accepts (given the value and its name); else an ArgumentError that says which.
      # what: the property ("features"), name: what a key is ("a feature
      # name"), want: what a value may be ("on or off").
      def self.check_map(value, what, name, want, &ok)
        unless value.is_a?(Hash) && !value.empty?
          raise ArgumentError, "nic_offload: #{what} must be a non-empty hash of #{name} to #{want}"
        end
        value.each do |k, v|
          raise ArgumentError, "nic_offload: '#{k}' in #{what} is not #{name}" unless k.is_a?(String) && !k.strip.empty?
          raise ArgumentError, "nic_offload: #{what} '#{k}' must be #{want}, not #{v.inspect}" unless ok.call(v, k)
        end
      end

      # '{gro => off, tx => absent}', nested maps as such: keys sorted, a
      # name the interface lacks (nil) said as absent.
      def self.to_s(value)
        return value.inspect unless value.is_a?(Hash)
        '{' + value.keys.sort.map { |k| "#{k} => #{value[k].nil? ? 'absent' : to_s_value(value[k])}" }.join(', ') + '}'
      end

      def self.to_s_value(v)
        v.is_a?(Hash) ? to_s(v) : v.to_s
      end

      # A property whose value is such a map: how the run shows it.
      module Shown
        def is_to_s(value)
          Values.to_s(value)
        end

        def should_to_s(value)
          Values.to_s(value)
        end
      end
    end
  end
end
