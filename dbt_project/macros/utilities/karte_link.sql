{#- An HTML link that opens the 事業カルテ dashboard with one project selected, for table charts
    (Superset renders and sanitises HTML in table cells). The project filter is set through the
    dashboard URL's native_filters parameter (rison); project codes are [A-Z0-9-] only (contract
    pattern), so they need no escaping. -#}
{% macro karte_link(project_code) -%}
    '<a href="/superset/dashboard/kouiki-project/?native_filters=(NATIVE_FILTER-kouiki-project-project:'
    || '(id:NATIVE_FILTER-kouiki-project-project,extraFormData:(filters:!((col:project_code,op:IN,val:!('''
    || {{ project_code }}
    || ''')))),filterState:(value:!('''
    || {{ project_code }}
    || '''))))">'
    || {{ project_code }}
    || '</a>'
{%- endmacro %}
