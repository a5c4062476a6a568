// Jest resolver: packages that publish only an "import" export condition are resolved with
// it (jest's CommonJS runtime asks for "require"); SWC then transforms them (jest.config.js).
'use strict';

const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/[^/]+|is-cidr|cidr-regex)(\/|$)/;

module.exports = (request, options) =>
  options.defaultResolver(request, ESM_ONLY.test(request) ? { ...options, conditions: ['import', 'default'] } : options);
