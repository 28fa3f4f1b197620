<?php
/*
 * First-start installer, run by the entrypoint before php-fpm: installs WordPress through its own
 * PHP API (wp_install, wp_insert_user) — Debian has no wp-cli — with the site URL, the title, an
 * administrator and a second, non-administrator user (M11). Idempotent: an installed site is left
 * as it is, only a missing second user is added. Passwords are read from the Docker secret files
 * and never printed.
 */

const DB_WAIT_TIMEOUT_S = 120;
const DB_RETRY_INTERVAL_S = 2;
const WEBROOT = '/var/www/html';

function fail(string $message): never
{
    fwrite(STDERR, "wp-setup: error: $message\n");
    exit(1);
}

function info(string $message): void
{
    fwrite(STDERR, "wp-setup: $message\n");
}

function env(string $name): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        fail("$name is not set; add it to srcs/.env");
    }
    return $value;
}

function secret(string $envName, string $default): string
{
    $file = getenv($envName) ?: $default;
    if (!is_readable($file)) {
        fail("secret file $file is missing");
    }
    $value = rtrim((string) strtok((string) file_get_contents($file), "\n"), "\r");
    if ($value === '') {
        fail("secret file $file is empty");
    }
    return $value;
}

$domain = env('DOMAIN_NAME');
$title = env('WP_TITLE');
$adminUser = env('WP_ADMIN_USER');
$adminEmail = env('WP_ADMIN_EMAIL');
$user = env('WP_USER');
$userEmail = env('WP_USER_EMAIL');
$adminPassword = secret('WP_ADMIN_PASSWORD_FILE', '/run/secrets/wp_admin_password');
$userPassword = secret('WP_USER_PASSWORD_FILE', '/run/secrets/wp_user_password');

// After a crash of both containers, mariadb may still be starting: wait, bounded, for it.
[$dbHost, $dbPort] = array_pad(explode(':', getenv('WORDPRESS_DB_HOST') ?: 'mariadb:3306', 2), 2, '3306');
$dbPassword = secret('WORDPRESS_DB_PASSWORD_FILE', '/run/secrets/db_password');
mysqli_report(MYSQLI_REPORT_OFF);
$deadline = time() + DB_WAIT_TIMEOUT_S;
do {
    $link = @mysqli_connect($dbHost, env('MYSQL_USER'), $dbPassword, env('MYSQL_DATABASE'), (int) $dbPort);
    if ($link !== false) {
        break;
    }
    sleep(DB_RETRY_INTERVAL_S);
} while (time() < $deadline);
if ($link === false) {
    fail('the database at ' . "$dbHost:$dbPort" . ' did not accept the WordPress user within ' . DB_WAIT_TIMEOUT_S . 's: ' . mysqli_connect_error());
}
mysqli_close($link);
unset($dbPassword);

// WordPress expects a web request; describe the one the site will really receive.
$_SERVER['HTTP_HOST'] = $domain;
$_SERVER['SERVER_NAME'] = $domain;
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['HTTPS'] = 'on';

// There is no mail transport in the lab: replace the pluggable wp_mail() before WordPress defines
// it, so that the "new site" notification does not try to run a missing sendmail.
function wp_mail(): bool
{
    return true;
}

define('WP_INSTALLING', true);
require WEBROOT . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

if (!is_blog_installed()) {
    info("installing WordPress for https://$domain with administrator '$adminUser'");
    // Same call and slashing as wp-admin/install.php.
    $result = wp_install($title, $adminUser, $adminEmail, true, '', wp_slash($adminPassword));
    if (empty($result['user_id'])) {
        fail('wp_install did not create the administrator');
    }
} else {
    info('WordPress is already installed');
    if ((int) get_option('db_version') !== (int) $GLOBALS['wp_db_version']) {
        info('upgrading the database schema to the installed WordPress version');
        wp_upgrade();
    }
}

if (!username_exists($user)) {
    info("creating the user '$user' (role: author)");
    $id = wp_insert_user([
        'user_login' => $user,
        'user_pass' => $userPassword,
        'user_email' => $userEmail,
        'role' => 'author',
    ]);
    if (is_wp_error($id)) {
        fail("could not create the user '$user': " . $id->get_error_message());
    }
}
info('site ready');
