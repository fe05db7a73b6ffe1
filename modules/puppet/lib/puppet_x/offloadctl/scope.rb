# frozen_string_literal: true

require 'json'
require 'fileutils'
require 'open3'
require 'tmpdir'

module PuppetX
  module Offloadctl
    # Running the agent.
    module Agent
      # exe [--netns NETNS] ARGS with stdin: [stdout, stderr, exit status].
      # Never raises on a non-zero exit; the callers decide what each code
      # means.
      def self.run(exe, netns, args, stdin = nil)
        cmd = [exe]
        cmd += ['--netns', netns] if netns
        cmd += args
        Puppet.debug("Executing: #{cmd.join(' ')}")
        out, err, status = Open3.capture3(*cmd, stdin_data: stdin.to_s)
        [out, err, status.exitstatus]
      end
    end

    # What the module's providers share: `run_agent` on the class (the one
    # door to the agent, which the specs stub) and `runner`, the callable
    # Scope and OwnedFile take. The provider declares `commands offloadctl:`.
    module AgentProvider
      def self.included(base)
        base.extend(ClassMethods)
      end

      # Class methods of a provider.
      module ClassMethods
        # Run the agent: [stdout, stderr, exit status]. Never raises on a
        # non-zero exit; the callers decide what each code means.
        def run_agent(netns, args, stdin: nil)
          Agent.run(command(:offloadctl), netns, args, stdin)
        end
      end

      def runner
        ->(ns, args, stdin) { self.class.run_agent(ns, args, stdin: stdin) }
      end
    end

    # A scope of the agent's configuration (CONTRACT.md "Scopes and owners")
    # as one owner sees it: the host scope (offloadctl.yaml, then
    # conf.d/*.yaml) or a named namespace's (netns/NAME/*.yaml), with the
    # owner's file read from standard input in its place, so that the agent
    # judges the whole scope as it will be once that file is written, before
    # anything is written.
    class Scope
      # How the agent names standard input in its messages and `decided`.
      STDIN_NAME = '<stdin>'

      # What the agent said about one owner's file in its scope.
      #   report:    the agent's check report (file names as they are on disk)
      #   code:      its exit status
      #   todo:      interface => [changes the owner's file decides]
      #   overrides: [[interface, feature, "file:line:column"]] where a later
      #              file of the scope decides a feature the owner's file sets
      #   errors:    the report's errors that are the owner's (its file's,
      #              or the agent's own)
      #   others:    the errors of the scope's other files
      #   alone:     the agent's check report of the owner's file on its own
      #              (its `decided` says which kernel features each of the
      #              file's lines stands for); {} when not asked
      Verdict = Struct.new(:report, :code, :todo, :overrides, :errors, :others, :alone) do
        def in_sync?
          code.zero? || (code == 1 && errors.empty? && todo.empty?)
        end

        # In sync as far as one kind of change goes: :features (changes
        # with a kernel feature) or :settings (the groups' settings).
        def in_sync_for?(kind)
          return true if code.zero?
          return false unless code == 1 && errors.empty?
          todo.values.flatten.none? { |c| c.key?('feature') == (kind == :features) }
        end

        # Says the overrides and the other files' errors through logger
        # (where: " in netns 'x'", owner: who the file is for); returns the
        # refusal, a message, when the owner's file is invalid or cannot be
        # reached (then nothing of it is written or applied), else nil.
        # With fail_overrides, a feature a later file decides is a refusal
        # too (a failed resource naming that file, never a flap), unless
        # that file is one of owned (path => the catalog resource that owns
        # it: a file of the same catalog that refines this one), which is a
        # notice; without, a warning.
        def refusal(logger, where, owner, tail = '', fail_overrides: false, owned: {})
          return "offloadctl check#{where} failed (exit #{code}): #{errors.join('; ')}" if code > 1
          others.each { |e| logger.warning("offloadctl check#{where}: another file of the scope: #{e}") }
          refined, foreign = overrides.partition { |_i, _f, by| owned.key?(Scope.file_of(by)) }
          refined.each do |ifname, feature, by|
            logger.notice("#{feature} on '#{ifname}'#{where} is decided by #{by}, the file of #{owned[Scope.file_of(by)]}, " \
                          "a later file of its scope that refines #{owner}: left as that file says")
          end
          if fail_overrides && !foreign.empty?
            words = foreign.map do |ifname, feature, by|
              "#{feature} on '#{ifname}'#{where} is decided by #{by}, a later file of its scope, not by #{owner}"
            end
            return "#{words.join('; ')}: left as that file says and nothing of #{owner} is written or applied; " \
                   "remove or change that file, or drop the feature from #{owner}#{tail}"
          end
          foreign.each do |ifname, feature, by|
            logger.warning("#{feature} on '#{ifname}'#{where} is decided by #{by}, a later file of its scope, " \
                           "not by #{owner}: left as that file says")
          end
          errors.empty? ? nil : "offloadctl check#{where}: #{errors.join('; ')}#{tail}"
        end

        # line number of the owner's file => the kernel features the agent
        # decides by it, with their state now (interface ifname): what a
        # name given on that line stands for, and is, on that interface.
        def states_by_line(ifname)
          entry = ((alone || {})['interfaces'] || {})[ifname] || {}
          now = (entry['changes'] || []).each_with_object({}) { |c, h| h[c['feature']] = c['from'] }
          (entry['decided'] || {}).each_with_object({}) do |(feature, d), h|
            line = d['by'].to_s[%r{\A#{Regexp.escape(STDIN_NAME)}:(\d+):}, 1]
            next if line.nil?
            (h[line.to_i] ||= {})[feature] = now.fetch(feature, d['value'])
          end
        end
      end

      # What a change entry of the agent's report changes: a feature by its
      # kernel name, or a setting of the groups as "GROUP SETTING"
      # ("channels rx"), the words of the agent's own text diff.
      def self.change_name(change)
        change.key?('feature') ? change['feature'] : "#{change['group']} #{change['setting']}"
      end

      # name => "file:line:column" of everything an interface's entry of a
      # check report says is decided: its features (`decided`) and the
      # groups' settings (`decided_settings`), named as change_name names them.
      def self.decisions(entry)
        entry ||= {}
        out = (entry['decided'] || {}).each_with_object({}) { |(f, d), h| h[f] = (d || {})['by'].to_s }
        (entry['decided_settings'] || {}).each do |group, params|
          (params || {}).each { |setting, d| out["#{group} #{setting}"] = (d || {})['by'].to_s }
        end
        out
      end

      # The file of a "file:line:column" position.
      def self.file_of(position)
        position.to_s.sub(%r{:\d+:\d+\z}, '')
      end

      attr_reader :config_dir, :netns

      # runner: a callable (netns, args, stdin) -> [stdout, stderr, status].
      # pending: path => content (nil: removed) of the other owners' files
      # as this run leaves them (Scope.pending).
      def initialize(config_dir, netns, runner, pending = {})
        @config_dir = config_dir
        @netns = netns
        @runner = runner
        @pending = pending
      end

      # A namespace given by path (/proc/PID/ns/net) has no scope of its own.
      def own?
        @netns.nil? || !@netns.include?('/')
      end

      # The directory an owner's drop-in goes to.
      def dir
        return File.join(@config_dir, 'conf.d') if @netns.nil?
        raise Puppet::Error, "a network namespace given by path ('#{@netns}') has no scope" unless own?
        File.join(@config_dir, 'netns', @netns)
      end

      # The files of the scope in the order the agent reads them, as the
      # agent lists them (`validate --json`: which files count, hidden ones
      # and editor leftovers not, is the agent's rule, not the module's).
      # Asked once a scope.
      def files
        return [] unless own?
        @files ||= begin
          out, err, = @runner.call(@netns, ['--config-dir', @config_dir, 'validate', '--json'], nil)
          listed = JSON.parse(out)['files']
          raise JSON::ParserError, 'no files' unless listed.is_a?(Array)
          listed.map { |f| File.expand_path(f) }
        rescue JSON::ParserError
          raise Puppet::Error, "offloadctl validate#{@netns ? " in netns '#{@netns}'" : ''} listed no files of the scope: #{err.to_s.strip}"
        end
      end

      # A file's place in the scope, for the files this run adds to the
      # agent's list (the owner's own, others' pending): offloadctl.yaml
      # first, then by name, as CONTRACT.md fixes it. Sort by it.
      def order(path)
        [(path == File.join(@config_dir, 'offloadctl.yaml')) ? 0 : 1, File.basename(path)]
      end

      # What the other owners of the catalog (nic_offload and
      # offloadctl_rules resources of the same scope, each answering
      # `owned_file` with [path, content or nil]) leave in their files by
      # the end of this run, where that differs from the disk. An owner
      # judges the scope with these, so that it never changes a feature that
      # another owner's file, written later in the same run, changes back.
      # Content the agent does not validate is never written, so it is left
      # out (runner as for new).
      def self.pending(catalog, config_dir, netns, except, runner)
        return {} if catalog.nil?
        catalog.resources.each_with_object({}) do |r, h|
          next unless [:nic_offload, :offloadctl_rules].include?(r.type) && r[:config_dir] == config_dir && r[:netns] == netns
          path, content = r.owned_file
          next if path.nil? || path == except
          on_disk = File.exist?(path) ? File.read(path) : nil
          next if content == on_disk || (content && !valid?(content, runner))
          h[path] = content
        end
      end

      # path => resource reference of every file another owner of the
      # catalog (nic_offload and offloadctl_rules resources of the same
      # scope, each answering `owned_path`) keeps in it, but except.
      def self.owners(catalog, config_dir, netns, except)
        return {} if catalog.nil?
        catalog.resources.each_with_object({}) do |r, h|
          next unless [:nic_offload, :offloadctl_rules].include?(r.type) && r[:config_dir] == config_dir && r[:netns] == netns
          path = r.owned_path
          h[path] = r.ref unless path.nil? || path == except
        end
      end

      # Whether the agent validates content; asked once a content.
      def self.valid?(content, runner)
        @valid ||= {}
        return @valid[content] if @valid.key?(content)
        @valid[content] = runner.call(nil, ['validate', '--kernel', '-'], content)[2].zero?
      end

      # `check --json` of the scope with content as path's; ifnames narrows
      # it to those interfaces (the agent's --ifname).
      def judge(path, content, ifnames = [])
        narrow = ifnames.flat_map { |i| ['--ifname', i] }
        with_files(path) do |args, names|
          whole, code = check(narrow + args, content)
          return Verdict.new(rename(whole, names), code, {}, [], whole['errors'].map { |e| rename_text(e, names) }, [], {}) if code > 1
          # What the owner's file decides on its own, to see what a later
          # file takes from it.
          alone, = check(narrow + ['-'], content)
          todo = {}
          overrides = []
          (alone['interfaces'] || {}).each do |ifname, entry|
            theirs = ((whole['interfaces'] || {})[ifname] || {})
            decided = Scope.decisions(theirs)
            Scope.decisions(entry).keys.sort.each do |name|
              by = decided[name].to_s
              overrides << [ifname, name, by] unless by.empty? || ours?(by)
            end
            mine = (theirs['changes'] || []).select { |c| ours?(decided[Scope.change_name(c)].to_s) }
            todo[ifname] = mine unless mine.empty?
          end
          others = args - ['-']
          theirs, mine = whole['errors'].partition { |e| others.any? { |f| e.start_with?("#{f}:") } }
          Verdict.new(rename(whole, names), code, todo, overrides.map { |i, f, by| [i, f, rename_text(by, names)] },
                      mine.map { |e| rename_text(e, names) }, theirs.map { |e| rename_text(e, names) }, alone)
        end
      end

      # `apply --json` of the scope with content as path's, on ifnames only:
      # [report, exit status, stderr].
      def apply(path, content, ifnames)
        with_files(path) do |args, names|
          out, err, code = @runner.call(@netns, ['apply', '--json'] + ifnames.flat_map { |i| ['--ifname', i] } + args, content)
          [rename(parse(out), names), code, rename_text(err.to_s, names)]
        end
      end

      # ' (rolled back): the agent's errors' for a failed apply.
      def self.failure_words(report, err)
        rolled = report['rolled_back'] ? ' (rolled back)' : ''
        msg = (report['errors'] || []).join('; ')
        msg = err.strip.empty? ? 'no message' : err.strip if msg.empty?
        "#{rolled}: #{msg}"
      end

      private

      # Yields the agent's FILE arguments for the scope with path's content
      # on standard input in path's place (path nil: the content alone) and
      # the other owners' pending files in a temporary directory in theirs,
      # and what to call each of those in messages.
      def with_files(path)
        return yield(['-'], {}) if path.nil?
        list = (files + @pending.keys + [path]).uniq.reject { |f| f != path && @pending.key?(f) && @pending[f].nil? }
        Dir.mktmpdir('offloadctl-scope-') do |tmp|
          names = { STDIN_NAME => path }
          args = list.sort_by { |f| order(f) }.each_with_index.map do |f, i|
            next '-' if f == path
            next f unless @pending.key?(f)
            copy = File.join(tmp, "#{i}-#{File.basename(f)}")
            File.write(copy, @pending[f])
            names[copy] = f
            copy
          end
          yield(args, names)
        end
      end

      def ours?(by)
        by.start_with?("#{STDIN_NAME}:")
      end

      def check(args, content)
        out, err, code = @runner.call(@netns, ['check', '--json'] + args, content)
        report = parse(out)
        report['errors'] = [err.strip] if code > 1 && (report['errors'] || []).empty? && !err.strip.empty?
        report['errors'] ||= []
        [report, code]
      end

      def parse(out)
        JSON.parse(out)
      rescue JSON::ParserError
        {}
      end

      # The agent's words with standard input and the temporary copies
      # called by their files' names.
      def rename_text(text, names)
        names.reduce(text) { |t, (from, to)| t.gsub(from, to) }
      end

      def rename(report, names)
        return report if names.empty?
        JSON.parse(rename_text(JSON.generate(report), names.transform_values { |v| v.to_json[1..-2] }))
      end
    end

    # Writing an owner's file: validated by the agent, written beside the
    # target and renamed, so the boot unit and `watch` only ever read a
    # whole, valid file; put back as it was when what follows fails.
    module OwnedFile
      # Validate content with the agent (runner as for Scope) and write it
      # to path unless it is there already. Raises Puppet::Error.
      def self.write(path, content, runner, what)
        return if File.exist?(path) && File.read(path) == content
        out, err, code = runner.call(nil, ['validate', '--kernel', '-'], content)
        unless code.zero?
          msg = [err.strip, out.strip].reject(&:empty?).join('; ')
          raise Puppet::Error, "offloadctl validate refused #{what} (exit #{code}): #{msg.gsub(Scope::STDIN_NAME, path)}"
        end
        dir = File.dirname(path)
        FileUtils.mkdir_p(dir)
        tmp = File.join(dir, ".#{File.basename(path)}.#{Process.pid}.tmp")
        begin
          File.open(tmp, File::WRONLY | File::CREAT | File::TRUNC, 0o644) do |f|
            f.write(content)
            f.flush
            f.fsync
          end
          File.rename(tmp, path)
        ensure
          File.unlink(tmp) if File.exist?(tmp)
        end
      end

      # Put path back to before (nil: no file); a failure is a warning.
      def self.restore(path, before, runner, logger)
        if before.nil?
          File.unlink(path) if File.exist?(path)
        else
          write(path, before, runner, 'the previous file')
        end
      rescue StandardError => e
        logger.warning("could not restore #{path}: #{e.message}")
      end
    end
  end
end
