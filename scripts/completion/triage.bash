# bash completion for triage(1)                             -*- shell-script -*-
# Installed as share/bash-completion/completions/triage; bash-completion loads
# it the first time `triage` is completed. Tested by scripts/test-completion.
# shellcheck shell=bash
# COMPREPLY=($(compgen ...)) is the completion idiom: words never hold spaces.
# shellcheck disable=SC2207

# The check types of the plugins triage finds, as PLUGIN.TYPE, read from the
# text form of `triage plugins` (plugin lines at column 0, check types indented
# by four spaces). Any --plugin-dir given on the line is passed on.
_triage_check_types()
{
    local -a dirs=()
    local i
    for ((i = 1; i < ${#words[@]} - 1; i++)); do
        case ${words[i]} in
            --plugin-dir) dirs+=(--plugin-dir "${words[i + 1]}") ;;
            --plugin-dir=*) dirs+=("${words[i]}") ;;
        esac
    done
    "${words[0]}" plugins "${dirs[@]}" 2>/dev/null | awk '
        /^[a-z]/ && $1 != "refused:" && $1 != "no" { plugin = $1; next }
        /^    [^ ]/ && plugin != "" { print plugin "." $1 }'
}

_triage()
{
    local cur prev words cword split
    _init_completion -s || return

    # Options that take a value: their value is not a command or argument.
    local with_value='-c|--config|--only|--tag|-f|--format|-o|--output|-j|--jobs|--isolation|--deadline|--timeout|--color|--plugin-dir|--log-format|-p|--param|--warning|--critical|-d|--dir|--params|--memory-limit-mb|--history|--keep|--check|--since|--limit|--min-change|--interval|--listen|--token-file|--max-lines'

    # Find the command, the subcommand of `plugin`, and how many positional
    # arguments come before the word being completed.
    local command='' sub='' i word
    local -i npos=0
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        if [[ $word == -* ]]; then
            [[ $word == @($with_value) ]] && ((i++))
            continue
        fi
        if [[ -z $command ]]; then
            command=$word
        elif [[ $command == plugin && -z $sub ]]; then
            sub=$word
        else
            npos+=1
        fi
    done

    local formats_report='text json ndjson nagios junit prometheus'
    case $prev in
        -f | --format)
            case $command in
                run | check | report) COMPREPLY=($(compgen -W "$formats_report" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W 'text json' -- "$cur")) ;;
            esac
            return
            ;;
        --isolation)
            COMPREPLY=($(compgen -W 'process in-process' -- "$cur"))
            return
            ;;
        --color)
            COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
            return
            ;;
        --log-format)
            COMPREPLY=($(compgen -W 'text json' -- "$cur"))
            return
            ;;
        -c | --config)
            _filedir '@(yaml|yml|json)'
            [[ $cur == - ]] && COMPREPLY=(-) # -c - reads the config from stdin
            return
            ;;
        -o | --output | --params | --token-file)
            _filedir
            return
            ;;
        --history)
            _filedir '@(db|sqlite|sqlite3)'
            return
            ;;
        --plugin-dir | -d | --dir)
            _filedir -d
            return
            ;;
        --only | --tag | -j | --jobs | --deadline | --timeout | -p | --param | --warning | \
            --critical | --memory-limit-mb | --keep | --check | --since | --limit | --min-change | \
            --interval | --listen | --max-lines)
            return
            ;;
    esac
    $split && return

    local common='--plugin-dir --allow-insecure-plugins -v --verbose -q --quiet --color --log-format -h --help'
    local output='-f --format -o --output'
    local opts=''
    case $command in
        '')
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W '--help --version' -- "$cur"))
            else
                COMPREPLY=($(compgen -W 'run check report list plugins plugin history diff serve' -- "$cur"))
            fi
            return
            ;;
        run)
            opts="-c --config --only --tag $output -j --jobs --isolation --deadline --timeout --history --keep $common"
            ;;
        history)
            opts="--check --since --limit -f --format --history -c --config $common"
            ;;
        diff)
            if [[ $cur != -* ]]; then
                ((npos < 2)) && _filedir json # a saved report, or a run number
                return
            fi
            opts="--min-change --max-lines -f --format --history -c --config $common"
            ;;
        serve)
            opts="-c --config --interval --listen --history --no-history --keep --token-file -j --jobs --isolation --deadline --timeout $common"
            ;;
        check)
            if [[ $cur != -* ]]; then
                # PLUGIN.TYPE, then TARGET (anything).
                ((npos == 0)) && COMPREPLY=($(compgen -W "$(_triage_check_types)" -- "$cur"))
                return
            fi
            opts="-p --param --warning --critical $output -j --jobs --timeout --deadline --isolation $common"
            ;;
        report)
            if [[ $cur != -* ]]; then
                ((npos == 0)) && _filedir json
                return
            fi
            opts="$output $common"
            ;;
        list)
            opts="-c --config --only --tag -f --format $common"
            ;;
        plugins)
            opts="-f --format $common"
            ;;
        plugin)
            case $sub in
                '')
                    [[ $cur != -* ]] && COMPREPLY=($(compgen -W 'new info validate' -- "$cur"))
                    [[ $cur == -* ]] && COMPREPLY=($(compgen -W '-h --help' -- "$cur"))
                    return
                    ;;
                new)
                    [[ $cur != -* ]] && return # NAME: the author's choice
                    opts='-d --dir -h --help'
                    ;;
                info | validate)
                    if [[ $cur != -* ]]; then
                        ((npos == 0)) && _filedir so
                        return
                    fi
                    opts='-f --format --allow-insecure-plugins -v --verbose -h --help'
                    [[ $sub == validate ]] && opts+=' --params --timeout --memory-limit-mb'
                    ;;
                *) return ;;
            esac
            ;;
        *)
            return
            ;;
    esac
    [[ $cur == -* || -z $cur ]] && COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} &&
    complete -F _triage triage

# ex: filetype=sh
