"""Who people are to the portal: roles from groups, single sign-on, and the
portal's own system user."""
