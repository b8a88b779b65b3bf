{#- In an incremental run of a project-keyed model: a where clause keeping only the projects
    int_projects_changed lists, written out as constants (read when the model is compiled, after
    int_projects_changed is built), so DuckDB filters at the base model's table scan instead of
    parsing every document first; nothing outside an incremental run. -#}
{% macro changed_projects_only(column='project_code') -%}
    {%- if is_incremental() -%}
        {%- set codes = [] -%}
        {%- if execute -%}
            {%- set codes = run_query(
                'select project_code from ' ~ ref('int_projects_changed') ~ ' order by project_code'
            ).columns[0].values() -%}
        {%- endif %}
        where
        {%- if codes | length > 0 %}
            {{ column }} in (
                {%- for code in codes %}'{{ code | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
            )
        {%- else %}
            false
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
