// The three parts of the mandatory stack (M02) and the service or image names that say which is
// which: shared by the static rules (from the files) and the live ones (from the containers).

export const MANDATORY = ['nginx', 'wordpress', 'mariadb'] as const;

export type Role = (typeof MANDATORY)[number];

/** Service and image names that say the role, when nothing surer does. */
export const NAMED_AS: Record<Role, RegExp> = {
  nginx: /nginx|^(web|proxy|front)$/i,
  wordpress: /wordpress|^(wp|php|php-fpm)$/i,
  mariadb: /mariadb|mysql|^(db|database)$/i,
};
