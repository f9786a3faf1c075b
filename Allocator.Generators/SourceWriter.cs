using System.Text;

namespace Allocator.Generators;

/// <summary>
/// A small indented writer. It appends '\n' itself, so the output is the same on every OS.
/// </summary>
internal sealed class SourceWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _builder = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length > 0)
        {
            for (var i = 0; i < _indent; i++)
            {
                _builder.Append(IndentUnit);
            }

            _builder.Append(text);
        }

        _builder.Append('\n');
    }

    /// <summary>Writes <paramref name="header"/> (unless empty) and an opening brace, then indents.</summary>
    public void Open(string header)
    {
        if (header.Length > 0)
        {
            Line(header);
        }

        Line("{");
        _indent++;
    }

    public void Close() => CloseWith("}");

    public void CloseWith(string closer)
    {
        _indent--;
        Line(closer);
    }

    public override string ToString() => _builder.ToString();
}
