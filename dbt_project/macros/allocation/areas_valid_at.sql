{#- Join condition: a project's areas (int_project_areas_versioned) registered when the item was
    submitted. The first registration also covers items that arrived before it. -#}
{% macro areas_valid_at(areas, items, submitted_at='report_submitted_at') -%}
    {{ items }}.project_code = {{ areas }}.project_code
    and (
        {{ areas }}.is_first_version
        or {{ items }}.{{ submitted_at }} >= {{ areas }}.valid_from
    )
    and (
        {{ areas }}.valid_to is null
        or {{ items }}.{{ submitted_at }} < {{ areas }}.valid_to
    )
{%- endmacro %}
