#!/bin/sh
# Healthy = the real server answers on its main socket. The ping runs as the OS user mysql, which
# the `mysql`@`localhost` account (unix_socket authentication, created by mariadb-install-db)
# lets in without a password, so no password is needed here and no "access denied" floods the
# log. The first start's bootstrap has no socket at all, so this only succeeds afterwards.
set -eu
exec runuser -u mysql -- mariadb-admin --socket=/run/mysqld/mysqld.sock ping --silent
