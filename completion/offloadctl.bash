# bash completion for offloadctl(8)
# Installed as /usr/share/bash-completion/completions/offloadctl.

# The interface names for --netns NS (when given and readable), else this
# namespace's, from /sys/class/net.
_offloadctl_interfaces()
{
    local netns=$1 names
    if [[ -n $netns ]] && type ip &>/dev/null; then
        names=$(ip -n "$netns" -o link show 2>/dev/null |
            awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')
    fi
    if [[ -z $names ]]; then
        local d
        for d in /sys/class/net/*; do
            [[ -e $d ]] && names+="${d##*/} "
        done
    fi
    printf '%s\n' $names
}

_offloadctl()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

    local commands="facts virt show advise validate check apply watch names help"
    local global_opts="--netns --root --backend --config-dir -v --verbose -q --quiet --version -h --help"
    local global_args="--netns|--root|--backend|--config-dir"

    # Find the command: the first word that is neither a global option nor
    # the argument of one.
    local i word cmd="" cmd_at=0 netns=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == @($global_args) ]]; then
            [[ $word == --netns ]] && netns=${COMP_WORDS[i + 1]}
            ((i++))
            continue
        fi
        [[ $word == --netns=* ]] && netns=${word#--netns=}
        [[ $word == -* ]] && continue
        cmd=$word
        cmd_at=$i
        break
    done

    COMPREPLY=()

    if [[ -z $cmd ]]; then
        case $prev in
        --netns)
            local ns
            ns=$(ls /run/netns 2>/dev/null)
            COMPREPLY=($(compgen -W "$ns" -- "$cur"))
            [[ $cur == /* ]] && COMPREPLY+=($(compgen -f -- "$cur"))
            return 0
            ;;
        --root | --config-dir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return 0
            ;;
        --backend)
            COMPREPLY=($(compgen -W "netlink ioctl auto" -- "$cur"))
            return 0
            ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return 0
    fi

    # Options that take an argument, per command.
    case $cmd in
    facts)
        case $prev in
        --format)
            COMPREPLY=($(compgen -W "json facter ansible prometheus" -- "$cur"))
            return 0
            ;;
        --output)
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
            ;;
        esac
        ;;
    watch)
        case $prev in
        --metrics-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
            ;;
        esac
        ;;
    advise)
        case $prev in
        --facts)
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
            ;;
        --id)
            # The ids of the knowledge base this offloadctl carries.
            COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" advise --list-ids 2>/dev/null)" -- "$cur"))
            return 0
            ;;
        esac
        ;;
    check | apply)
        case $prev in
        -i | --interface | -I | --ifname)
            COMPREPLY=($(compgen -W "$(_offloadctl_interfaces "$netns")" -- "$cur"))
            return 0
            ;;
        --facts)
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
            ;;
        --lock-timeout)
            return 0
            ;;
        esac
        ;;
    help)
        ((COMP_CWORD == cmd_at + 1)) &&
            COMPREPLY=($(compgen -W "${commands% help}" -- "$cur"))
        return 0
        ;;
    esac

    local opts=""
    case $cmd in
    facts) opts="--format --full --output -h --help" ;;
    virt) opts="--brief -h --help" ;;
    show) opts="--all --settings --json -h --help" ;;
    advise) opts="--json --desired-state --id --all --facts --list-ids -h --help" ;;
    validate) opts="-q --quiet --json --kernel -h --help" ;;
    names) opts="--json -h --help" ;;
    check) opts="--json --facts -i --interface -I --ifname --all-scopes -h --help" ;;
    apply) opts="-n --dry-run --json --lock-timeout -i --interface -I --ifname --all-scopes --per-interface --fall-back -h --help" ;;
    watch) opts="--metrics-file -h --help" ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi

    case $cmd in
    facts | show | advise)
        COMPREPLY=($(compgen -W "$(_offloadctl_interfaces "$netns")" -- "$cur"))
        ;;
    validate | check | apply | watch)
        # Desired-state files (YAML, or any file), directories to walk into.
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -X '!*.yaml' -- "$cur") $(compgen -f -X '!*.yml' -- "$cur")
            $(compgen -d -- "$cur"))
        [[ ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
        ;;
    esac
    return 0
}

complete -F _offloadctl offloadctl
