"""`ergo importconf ircd.yaml`: Ergo's YAML config turned into ergo.conf,
each key not carried over reported with its line; the result loads
(`checkconfig`) and serves. The YAML here copies the structure of Ergo's
default.yaml (maps, lists of maps, quoted keys, comments, empty values,
flow lists, a | block); it is not Ergo's file."""

import os
import re
import shutil
import tempfile

from ergotest import Server, run_ergo, free_port

DEFAULT_LIKE = """\
# This is the default config file for Ergo.
# comments everywhere, as in default.yaml

# network configuration
network:
    # name of the network
    name: ErgoTest

# server configuration
server:
    # server name
    name: ergo.test

    # addresses to listen on
    listeners:
        # plaintext on loopback only
        "127.0.0.1:{port}": # (loopback ipv4, localhost-only)
        # ":6667":

        # The standard SSL/TLS port for IRC is 6697:
        "127.0.0.1:{tlsport}":
            tls:
                cert: fullchain.pem
                key: privkey.pem
            # 'proxy' should typically be false
            proxy: false
            min-tls-version: 1.2

        # Example of a Unix domain socket for proxying:
        # "/tmp/ergo_sock":

    unix-bind-mode: 0777

    tor-listeners:
        require-sasl: false
        vhost: "tor-network.onion"
        max-connections: 64

    sts:
        enabled: false
        duration: 1mo2d5m
        port: 6697
        preload: false

    websockets:
        allowed-origins:
            # - "https://ergo.chat"

    casemapping: "ascii"
    enforce-utf8: true
    lookup-hostnames: false
    coerce-ident: '~u'
    #password: "$2a$04$0123456789abcdef0123456789abcdef0123456789abcdef01234"
    motd: ergo.motd
    motd-formatting: true

    relaymsg:
        enabled: true
        separators: "/"

    proxy-allowed-from:
        - localhost
        # - "192.168.1.1"

    webirc:
        # one webirc block -- should correspond to one set of gateways
        -
            certfp: "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
            password: "$2a$04$abcdef0123456789abcdef0123456789abcdef0123456789abcde"
            hosts:
                - localhost
            accept-hostname: false

    max-sendq: 96k

    compatibility:
        force-trailing: true
        send-unprefixed-sasl: true

    ip-limits:
        count: true
        max-concurrent-connections: 16
        throttle: true
        window: 10m
        max-connections-per-window: 32
        cidr-len-ipv4: 32
        cidr-len-ipv6: 64
        exempted:
            - "localhost"
        custom-limits:
            #"irccloud":
            #    nets:

    ip-check-script:
        enabled: false
        command: "/usr/local/bin/check-ip-ban"
        args: []
        timeout: 9s

    ip-cloaking:
        enabled: true
        enabled-for-always-on: true
        netname: "irc"
        cidr-len-ipv4: 32
        num-bits: 64

    secure-nets:
        # - "10.0.0.0/8"

# account options
accounts:
    authentication-enabled: true
    registration:
        enabled: true
        allow-before-connect: true
        throttling:
            enabled: true
            duration: 10m
            max-attempts: 30
        bcrypt-cost: 4
        email-verification:
            enabled: false
    login-throttling:
        enabled: true
        duration:  1m
        max-attempts: 3
    nick-reservation:
        enabled: true
        additional-nick-limit: 0
        method: strict
        allow-custom-enforcement: false
        guest-nickname-format: "Guest-*"
    multiclient:
        enabled: true
        always-on: "opt-in"
    vhosts:
        enabled: true
        max-length: 64
        valid-regexp: '^[0-9A-Za-z.\\-_/]+$'
    default-user-modes: +i

# channel options
channels:
    default-modes: +ntC
    max-channels-per-client: 100
    operator-only-creation: false
    registration:
        enabled: true
        operator-only: false
        max-channels-per-account: 15
    list-delay: 0s
    invite-expiration: 24h

# operator classes
oper-classes:
    "chat-moderator":
        title: Chat Moderator
        capabilities:
            - "kill"
            - "ban"

# ircd operators
opers:
    admin:
        class: "server-admin"
        whois-line: is the server administrator
        password: "$2a$04$0123456789abcdef0123456789abcdef0123456789abcdef01234"

# logging
logging:
    -
        method: stderr
        type: "* -userinput -useroutput"
        level: info
    -
        method: file
        filename: ircd.log
        type: "*"
        level: debug

# debug options
debug:
    recover-from-errors: true

lock-file: "ircd.lock"

# datastore configuration
datastore:
    path: ircd.db
    autoupgrade: true
    mysql:
        enabled: false

# languages config
languages:
    enabled: false
    default: en
    path: languages

limits:
    nicklen: 32
    identlen: 20
    channellen: 64
    awaylen: 390
    kicklen: 390
    topiclen: 390
    monitor-entries: 100
    whowas-entries: 100
    chan-list-modes: 100
    registration-messages: 1024
    multiline:
        max-bytes: 4096
        max-lines: 100

fakelag:
    enabled: true
    window: 1s

roleplay:
    enabled: false

history:
    enabled: true
    channel-length: 2048
    client-length: 256
    autoresize-window: 3d
    autoreplay-on-join: 0
    chathistory-maxmessages: 1000
    znc-maxmessages: 2048
    restrictions:
        expire-time: 1w
        query-cutoff: 'none'
        grace-period: 1h
    persistent:
        enabled: false
        unregistered-channels: false
    tagmsg-storage:
        default: false
        whitelist:
            - "+draft/react"

allow-environment-overrides: true

motd-text: |
    a block scalar
    over two lines
"""


def convert(text, d=None):
    d = d or tempfile.mkdtemp(prefix="ergo-importconf-")
    path = os.path.join(d, "ircd.yaml")
    with open(path, "w") as f:
        f.write(text)
    return run_ergo("importconf", path, cwd=d), d


def test_importconf_default_yaml_structure_converts_reports_and_serves():
    port, tlsport = free_port(), free_port()
    p, d = convert(DEFAULT_LIKE.replace("{port}", str(port))
                   .replace("{tlsport}", str(tlsport)))
    assert p.returncode == 0, p.stderr
    out, err = p.stdout, p.stderr
    # carried over, in our grammar
    for want in (r"network \{\n\tname ErgoTest\n\}",
                 r"\tname ergo\.test\n",
                 r"\tlisten 127\.0\.0\.1:%d\n" % port,
                 r"\tlisten 127\.0\.0\.1:%d \{ tls \{ cert fullchain\.pem  "
                 r"key privkey\.pem  min-version 1\.2 \} \}" % tlsport,
                 r"\tsts \{\n\t\tenabled no\n\t\tduration 2765100s\n",
                 r"\tconnection-limits \{\n\t\tmax-per-ip 16\n\t\tthrottle yes"
                 r"\n\t\twindow 600s\n",
                 r"\tip-cloaking \{\n\t\tenabled yes\n\t\tnetname irc\n",
                 r"\tregistration \{\n\t\tenabled yes\n\t\tallow-before-"
                 r"connect yes\n\t\tthrottling \{",
                 r"\tnick-reservation \{\n\t\tenabled yes\n\t\tmethod strict",
                 r"\tdefault-modes \+nt\n\tmax-per-user 100\n",
                 r"\tmax-list-entries 100\n",
                 r"\tmultiline-max-bytes 4096\n",
                 r"\texpire-time 604800s\n",
                 r"\tquery-cutoff none\n\tgrace-period 3600s\n",
                 r"datastore \{\n\tpath ircd\.sqlite\n\tautoupgrade yes\n\}",
                 r"logging \{\n\tmethod file\n\tpath ircd\.log\n\tlevel debug",
                 r"# oper admin \{"):
        assert re.search(want, out), (want, out)
    # each key not carried over: named with its line
    for want in (r":\d+: server\.unix-bind-mode: not supported",
                 r":\d+: server\.tor-listeners: not supported here; dropped "
                 r"\(with the 3 keys under it\)",
                 r":\d+: server\.webirc: not supported",
                 r":\d+: server\.ip-limits\.count: not supported",
                 r":\d+: server\.ip-cloaking\.num-bits: not supported",
                 r":\d+: accounts\.registration\.bcrypt-cost: not supported",
                 r":\d+: accounts\.vhosts: not supported",
                 r":\d+: channels\.default-modes: modes \+C are not supported",
                 r":\d+: oper-classes: not supported",
                 r":\d+: opers\.admin\.whois-line: not supported",
                 r":\d+: opers\.admin: its password is an Ergo \(bcrypt\) hash",
                 r":\d+: datastore\.path: that is Ergo's buntdb file",
                 r":\d+: datastore\.mysql: not supported",
                 r":\d+: history\.tagmsg-storage: not supported",
                 r":\d+: motd-text: not supported",
                 r"converted; \d+ keys not carried over"):
        assert re.search(want, err), (want, err)
    m = re.search(r"ircd\.yaml:(\d+): server\.unix-bind-mode", err)
    lines = DEFAULT_LIKE.splitlines()
    assert lines[int(m.group(1)) - 1].strip().startswith("unix-bind-mode"), m
    # what comes out loads and serves
    conf = os.path.join(d, "ergo.conf")
    with open(conf, "w") as f:
        f.write(out)
    r = run_ergo("mkcerts", "--cert", "fullchain.pem", "--key",
                 "privkey.pem", "--host", "localhost", cwd=d)
    assert r.returncode == 0, r.stderr
    r = run_ergo("checkconfig", "--config", conf, cwd=d)
    assert r.returncode == 0, r.stdout + r.stderr
    srv = Server(config=out, start=False)
    srv.port = port
    for name in ("fullchain.pem", "privkey.pem"):
        os.replace(os.path.join(d, name), os.path.join(srv.dir, name))
    srv.start()
    c = srv.client("yamluser")          # registered: 001 came
    c.send("PING :yaml")
    c.expect(r"PONG .*yaml")
    srv.stop()


def test_importconf_every_mapped_key():
    p, d = convert("""\
network: {name: Net}
server:
    name: irc.example.org
    listeners:
        ":7000":
    password: "$pbkdf2-sha256$32768$c2FsdHNhbHRzYWx0c2FsdA$0TzyyL7b2Bz3F+rTv3Ia6Kdg9iyN2nuCzAUWcAT+6o4"
    casemapping: rfc1459
    motd: my.motd
    max-sendq: 1m
    ip-limits:
        max-concurrent-connections: 4
        throttle: false
        window: 1h
        max-connections-per-window: 8
        cidr-len-ipv4: 24
        cidr-len-ipv6: 48
    ip-cloaking: {enabled: false, netname: net}
    sts: {enabled: true, duration: 2w, port: 7001, preload: true}
datastore: {autoupgrade: false}
accounts:
    authentication-enabled: false
    registration:
        enabled: false
        allow-before-connect: false
        throttling: {enabled: false, duration: 5m, max-attempts: 3}
    nick-reservation: {enabled: false, method: optional}
channels:
    default-modes: +nst
    max-channels-per-client: 7
    registration: {max-channels-per-account: 3}
limits:
    nicklen: 20
    identlen: 10
    channellen: 30
    topiclen: 300
    awaylen: 200
    kicklen: 200
    realnamelen: 100
    whowas-entries: 10
    monitor-entries: 20
    chan-list-modes: 50
    multiline: {max-bytes: 2048, max-lines: 20}
history:
    enabled: false
    channel-length: 100
    client-length: 50
    autoreplay-on-join: 10
    chathistory-maxmessages: 200
    restrictions: {expire-time: 3d}
    persistent: {enabled: true}
opers:
    root:
        class: server-admin
        certfp: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
logging:
    - method: syslog
      level: warn
""")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for want in ("network {\n\tname Net\n}", "\tlisten :7000\n",
                 "\tpassword $pbkdf2-sha256$", "\tcasemapping rfc1459\n",
                 "\tmotd my.motd\n", "\tmax-sendq 1m\n",
                 "\t\tmax-per-ip 4\n\t\tthrottle no\n\t\twindow 3600s\n"
                 "\t\tmax-connections-per-window 8\n\t\tcidr-len-ipv4 24\n"
                 "\t\tcidr-len-ipv6 48\n",
                 "\tip-cloaking {\n\t\tenabled no\n\t\tnetname net\n",
                 "\tsts {\n\t\tenabled yes\n\t\tduration 1209600s\n"
                 "\t\tport 7001\n\t\tpreload yes\n",
                 "datastore {\n\tautoupgrade no\n}",
                 "\tauthentication-enabled no\n",
                 "\tregistration {\n\t\tenabled no\n\t\tallow-before-connect"
                 " no\n\t\tthrottling {\n\t\t\tenabled no\n\t\t\tduration"
                 " 300s\n\t\t\tmax-attempts 3\n",
                 "\tnick-reservation {\n\t\tenabled no\n\t\tmethod optional\n",
                 "\tdefault-modes +nst\n\tmax-per-user 7\n",
                 "\t\tmax-channels-per-account 3\n",
                 "\tmax-list-entries 50\n",
                 "limits {\n\tnicklen 20\n\tidentlen 10\n\tchannellen 30\n"
                 "\ttopiclen 300\n\tawaylen 200\n\tkicklen 200\n"
                 "\trealnamelen 100\n\twhowas-entries 10\n\tmonitor-entries 20\n"
                 "\tmultiline-max-bytes 2048\n\tmultiline-max-lines 20\n}",
                 "history {\n\tenabled no\n\tchannel-length 100\n"
                 "\tclient-length 50\n\tautoreplay-on-join 10\n"
                 "\tchathistory-maxmessages 200\n\texpire-time 259200s\n"
                 "\tpersistent yes\n}",
                 "oper root {\n\tclass server-admin\n\tcertfp 0123",
                 "logging {\n\tmethod syslog\n\tlevel warn\n}"):
        assert want in out, (want, out)
    assert "0 keys not carried over" in p.stderr, p.stderr
    conf = os.path.join(d, "ergo.conf")
    with open(conf, "w") as f:
        f.write(out)
    r = run_ergo("checkconfig", "--config", conf, cwd=d)
    assert r.returncode == 0, r.stdout + r.stderr


def test_importconf_bad_yaml_says_where():
    p, _ = convert("server:\n\tname: x\n")
    assert p.returncode == 1 and re.search(r"ircd\.yaml:2: a tab in the "
                                           r"indentation", p.stderr), p.stderr
    p, _ = convert("server:\n    name: x\n      bad: y\n")
    assert p.returncode == 1 and re.search(r"ircd\.yaml:3: unexpected "
                                           r"indentation", p.stderr), p.stderr
    p, _ = convert("server:\n    name: \"unterminated\n")
    assert p.returncode == 1 and "unterminated" in p.stderr, p.stderr
    p = run_ergo("importconf")
    assert p.returncode == 2 and "needs one FILE" in p.stderr
    p = run_ergo("importconf", "/nonexistent/ircd.yaml")
    assert p.returncode == 1 and "No such file" in p.stderr
    # keys of ours with values ours refuses: the result is checked first
    p, _ = convert("limits:\n    nicklen: 100000\n")
    assert p.returncode == 1 and "does not load" in p.stderr, p.stderr
    assert p.stdout == ""


def test_importconf_carries_login_throttling_suppress_lusers_chanreg():
    p, d = convert("""
network:
    name: ErgoTest
server:
    name: ergo.test
    suppress-lusers: true
accounts:
    login-throttling:
        enabled: true
        duration: 2m
        max-attempts: 3
channels:
    registration:
        enabled: false
""")
    try:
        assert p.returncode == 0, p.stderr
        for want in (r"\tsuppress-lusers yes\n",
                     r"\tlogin-throttling \{\n\t\tenabled yes\n\t\t"
                     r"duration 120s\n\t\tmax-attempts 3\n",
                     r"\tregistration \{\n\t\tenabled no\n"):
            assert re.search(want, p.stdout), (want, p.stdout)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_importconf_carries_email_verification_and_output_path():
    p, d = convert("""\
network: {name: Net}
server:
    name: irc.example.org
    output-path: "/var/lib/ergo/out"
accounts:
    registration:
        verify-timeout: "32h"
        email-verification:
            enabled: true
            sender: "admin@my.network"
            require-tls: true
            timeout: 30s
            password-reset: {enabled: true, cooldown: 2h, timeout: 1d}
""")
    assert p.returncode == 0, p.stderr
    want = ("\t\tverify-timeout 115200s\n\t\temail-verification {\n"
            "\t\t\tenabled yes\n\t\t\tsender admin@my.network\n"
            "\t\t\ttimeout 30s\n\t\t\tpassword-reset {\n"
            "\t\t\t\tenabled yes\n\t\t\t\tcooldown 7200s\n"
            "\t\t\t\ttimeout 86400s\n")
    assert want in p.stdout, p.stdout
    assert "\toutput-path /var/lib/ergo/out\n" in p.stdout, p.stdout
    # Ergo's SMTP client's keys have no use with a sendmail program
    assert re.search(r":\d+: accounts\.registration\.email-verification\."
                     r"require-tls: not supported", p.stderr), p.stderr
    conf = os.path.join(d, "ergo.conf")
    with open(conf, "w") as f:
        f.write(p.stdout)
    r = run_ergo("checkconfig", "--config", conf, cwd=d)
    assert r.returncode == 0, r.stdout + r.stderr
