# @summary
#   Turns the advice ids the class is told to follow into a drop-in of rules,
#   and reports every other pending piece of advice as a notice.
#
# The advice comes from the `offloadctl` fact (`advice`: what the agent's
# knowledge base, docs/advice.md, finds on this host, with the recommended
# settings per interface). For each id in `offloadctl::follow_advice`, every
# interface the advice names gets a rule with those settings, by name, in
# `<config_dir>/conf.d/40-puppet-advice.yaml` (with `netns`, the drop-in of
# that namespace's scope; read before the 50-* drop-ins, which win). A followed piece of advice stays in
# the fact (no longer pending), so the rule stays. Advice not chosen is a
# notice in the run's log, never a change.
#
# @api private
class offloadctl::advice {
  if $caller_module_name != $module_name {
    fail('offloadctl::advice is private: include class offloadctl instead')
  }

  $follow = $offloadctl::follow_advice
  $fact = $facts.dig('offloadctl', 'advice')
  $hits = $fact ? {
    Array   => $fact,
    default => [],
  }
  $dropin = $offloadctl::config::advice_file
  $mark = $offloadctl::config::mark

  $rules = $hits.filter |$h| {
    $h['id'] in $follow and $h['interface'] =~ String and !$h['settings'].empty
  }.map |$h| {
    { 'match' => { 'name' => $h['interface'] }, 'features' => $h['settings'] }
  }

  $hits.each |$h| {
    $where = $h['interface'] ? {
      String  => $h['interface'],
      default => 'the host',
    }
    if $h['pending'] and !($h['id'] in $follow) {
      $what = "advice ${h['id']} (confidence ${h['confidence']}) on ${where}, not followed"
      notice("${what}: ${h['summary']} (add it to follow_advice to follow it)")
    } elsif $h['pending'] and $h['settings'].empty {
      notice("advice ${h['id']} on ${where}: nothing to set here (offloadctl advise says what to do)")
    }
  }
  $seen = $hits.map |$h| { $h['id'] }
  $follow.each |$id| {
    unless $id in $seen {
      notice("follow_advice names ${id}, which does not apply to this host (offloadctl advise --list-ids lists every id)")
    }
  }

  if $rules.empty {
    file { $dropin:
      ensure => absent,
    }
  } else {
    offloadctl_rules { $dropin:
      content    => offloadctl::dropin({ 'interfaces' => $rules }, @("HEADER")),
        ${mark} (follow_advice): the advice followed on this host.
        See docs/advice.md; local changes are overwritten.
        | HEADER
      netns      => $offloadctl::netns,
      config_dir => $offloadctl::config_dir,
      apply      => $offloadctl::apply,
    }
  }
}
