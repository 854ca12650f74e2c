-- Reserved for the contact policy's migration (consent columns, issue 20), made on
-- another branch at the same time as 0006: the numbers must not leave a gap, which the
-- migration runner refuses. When both are merged, that migration replaces this file.
SELECT 1;
