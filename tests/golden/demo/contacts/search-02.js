window.TIPSCALE_SEARCH=Object.assign(window.TIPSCALE_SEARCH||{},{});
